// Signature checks for Tor's certificates (cert-spec.txt §2.1, §2.3; tor-spec §4.2 checklist).
// Each function answers one question; deciding which certificates a CERTS cell must hold, and
// comparing against the identity we expected, belongs to the channel handshake.

import { X509Certificate, createHash, createPublicKey, publicDecrypt, constants, type KeyObject } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
import { equalBytes } from '../../wire/bytes.js'
import {
  RSA_ED25519_CROSSCERT_PREFIX,
  certSigningKey,
  hasUnknownCriticalExtension,
  type Ed25519Cert,
  type RsaEd25519CrossCert,
} from '../../wire/tor/ed25519-cert.js'

export type CertCheck = { ok: true } | { ok: false; reason: string }

const HOUR_MS = 3_600_000

/** True while `nowMs` (from the caller's World) is before the certificate's expiration hour. */
export function certStillValid(expirationHours: number, nowMs: number): boolean {
  return nowMs < expirationHours * HOUR_MS
}

/**
 * Checks an Ed25519 certificate's signature: by `signingKey` if given, else by the key in its
 * signed-with-ed25519-key extension (and if both are present they must agree). Also refuses
 * unknown extensions flagged AFFECTS_VALIDATION and expired certificates.
 */
export function checkEd25519Cert(cert: Ed25519Cert, nowMs: number, signingKey?: Uint8Array): CertCheck {
  const embedded = certSigningKey(cert)
  const key = signingKey ?? embedded
  if (!key) return { ok: false, reason: 'no signing key given and none embedded' }
  if (signingKey && embedded && !equalBytes(signingKey, embedded)) return { ok: false, reason: 'embedded signing key is not the expected one' }
  if (hasUnknownCriticalExtension(cert)) return { ok: false, reason: 'unknown extension that affects validation' }
  if (!certStillValid(cert.expirationHours, nowMs)) return { ok: false, reason: 'expired' }
  let good = false
  try {
    good = ed25519.verify(cert.signature, cert.signed, key)
  } catch {
    good = false
  }
  return good ? { ok: true } : { ok: false, reason: 'bad Ed25519 signature' }
}

/** The RSA public key of an X.509 certificate (CERTS type 2 is the relay's RSA identity). */
export function rsaKeyOfX509(der: Uint8Array): KeyObject {
  return new X509Certificate(der).publicKey
}

/** PKCS#1 DER of the RSA public key (of a private key's public half, when given a private key). */
export function rsaPublicKeyPkcs1Der(key: KeyObject): Uint8Array {
  // createPublicKey() refuses a KeyObject that is already public on Node 20.
  const pub = key.type === 'public' ? key : createPublicKey(key)
  return new Uint8Array(pub.export({ type: 'pkcs1', format: 'der' }))
}

/** The relay's RSA identity fingerprint: SHA-1 of the PKCS#1 DER public key (tor-spec §0.3). */
export function rsaIdentityFingerprint(key: KeyObject): Uint8Array {
  return new Uint8Array(createHash('sha1').update(rsaPublicKeyPkcs1Der(key)).digest())
}

/** tor-spec §4.2: identity keys are RSA-1024. */
export function rsaKeyBits(key: KeyObject): number {
  return key.asymmetricKeyDetails?.modulusLength ?? 0
}

/**
 * Checks a type-7 cross-certificate: the RSA key signed SHA-256(prefix | ED25519_KEY | EXPIRATION)
 * with PKCS#1 v1.5 padding and no DigestInfo (cert-spec §2.3), so the recovered block must equal
 * the bare digest.
 */
export function checkRsaEd25519CrossCert(cert: RsaEd25519CrossCert, rsaKey: KeyObject, nowMs: number): CertCheck {
  if (!certStillValid(cert.expirationHours, nowMs)) return { ok: false, reason: 'expired' }
  const digest = createHash('sha256').update(RSA_ED25519_CROSSCERT_PREFIX).update(cert.signed).digest()
  let recovered: Uint8Array
  try {
    recovered = new Uint8Array(publicDecrypt({ key: rsaKey, padding: constants.RSA_PKCS1_PADDING }, cert.signature))
  } catch {
    return { ok: false, reason: 'RSA signature does not decode' }
  }
  return equalBytes(recovered, digest) ? { ok: true } : { ok: false, reason: 'RSA signature does not match' }
}

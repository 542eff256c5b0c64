// A simulated relay's long-term keys and the X.509 certificates that go with them (tor-spec §1.1
// "Keys and names", cert-spec). Everything is drawn from the caller's `random` (the World's seeded
// bytes), so one seed always makes the same relay: same fingerprints, same certificates.

import { createPrivateKey, type KeyObject } from 'node:crypto'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { generateRsaPrivateKey, type RandomBytes } from '../../crypto/rsa-keygen.js'
import { certificatePem, selfSignedCertificate } from '../../crypto/x509-self-signed.js'
import { rsaIdentityFingerprint } from '../../crypto/tor/cert-signatures.js'
import type { NtorRelaySecret } from '../../crypto/tor/ntor.js'

export interface KeyPair {
  /** 32-byte secret: the Ed25519 seed, or the x25519 scalar before clamping. */
  secret: Uint8Array
  public: Uint8Array
}

export interface RelayKeys {
  nickname: string
  /** RSA-1024 private identity key (tor-spec §1.1: the legacy identity is 1024-bit). */
  rsaIdentity: KeyObject
  /** SHA-1 of the PKCS#1 DER public identity key: the relay's fingerprint. */
  rsaId: Uint8Array
  /** KP_relayid_ed: the Ed25519 master identity. */
  ed25519Identity: KeyPair
  /** KP_relaysign_ed: the medium-term signing key the identity certifies (CERTS type 4). */
  ed25519Signing: KeyPair
  /** KP_ntor: the curve25519 onion key for CREATE2/ntor. */
  ntor: KeyPair
  /** The TLS link key and its self-signed certificate (certified by CERTS type 5). */
  tls: { key: KeyObject; keyPem: string; certPem: string; certDer: Uint8Array }
  /** CERTS type 2: X.509 self-signed by the RSA identity key. */
  rsaIdentityCertDer: Uint8Array
}

const DAY_MS = 86_400_000
export const RSA_IDENTITY_BITS = 1024
/** X.509 validity of the link and identity certificates: from a day before `nowMs` to a year after. */
export const X509_BACKDATE_MS = DAY_MS
export const X509_LIFETIME_MS = 365 * DAY_MS

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/**
 * A host name like the ones tor puts in its certificates ("www." + 8..20 base32 characters + a
 * suffix: tortls.c uses ".net" for the link certificate and ".com" for the identity one), so the
 * certificates look like a relay's rather than announce a simulator.
 */
function randomHostname(random: RandomBytes, suffix: string): string {
  const len = 8 + (random(1)[0] % 13)
  return 'www.' + Array.from(random(len), (b) => BASE32[b & 31]).join('') + suffix
}

function randomSerial(random: RandomBytes): Uint8Array {
  const s = random(8)
  s[7] |= 1 // never zero: RFC 5280 serials are positive
  return s
}

function ed25519Pair(random: RandomBytes): KeyPair {
  const secret = random(32)
  return { secret, public: ed25519.getPublicKey(secret) }
}

/** node:crypto Ed25519 private key for a 32-byte seed (RFC 8037 OKP JWK). */
export function ed25519KeyObject(pair: KeyPair): KeyObject {
  const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url')
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64u(pair.secret), x: b64u(pair.public) }, format: 'jwk' })
}

/**
 * Makes a relay's keys and certificates. The draws from `random` come in a fixed order (RSA
 * identity, Ed25519 identity, signing key, ntor key, TLS key, then the certificates' names and
 * serials), and `nowMs` only sets certificate dates, so the keys depend on the stream alone.
 */
export function generateRelayKeys(random: RandomBytes, nickname: string, nowMs: number): RelayKeys {
  if (!Number.isFinite(nowMs)) throw new RangeError(`nowMs ${nowMs} is not a time`)
  const rsaIdentity = generateRsaPrivateKey(random, RSA_IDENTITY_BITS)
  const ed25519Identity = ed25519Pair(random)
  const ed25519Signing = ed25519Pair(random)
  const ntorSecret = random(32)
  const ntor = { secret: ntorSecret, public: x25519.getPublicKey(ntorSecret) }
  const tlsPair = ed25519Pair(random)
  const tlsKey = ed25519KeyObject(tlsPair)

  const notBeforeMs = Math.max(0, nowMs - X509_BACKDATE_MS)
  const notAfterMs = nowMs + X509_LIFETIME_MS
  const certDer = selfSignedCertificate({ key: tlsKey, commonName: randomHostname(random, '.net'), notBeforeMs, notAfterMs, serial: randomSerial(random) })
  const rsaIdentityCertDer = selfSignedCertificate({
    key: rsaIdentity,
    commonName: randomHostname(random, '.com'),
    notBeforeMs,
    notAfterMs,
    serial: randomSerial(random),
  })

  return {
    nickname,
    rsaIdentity,
    rsaId: rsaIdentityFingerprint(rsaIdentity),
    ed25519Identity,
    ed25519Signing,
    ntor,
    tls: { key: tlsKey, keyPem: tlsKey.export({ type: 'pkcs8', format: 'pem' }) as string, certPem: certificatePem(certDer), certDer },
    rsaIdentityCertDer,
  }
}

/** What the relay side of ntor needs (src/crypto/tor/ntor.ts ntorServerRespond). */
export function ntorSecretOf(keys: RelayKeys): NtorRelaySecret {
  return { nodeId: keys.rsaId, ntorOnionKey: keys.ntor.public, ntorOnionSecret: keys.ntor.secret }
}

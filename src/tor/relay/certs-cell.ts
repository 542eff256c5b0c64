// The certificates a responder puts in its CERTS cell (tor-spec §4.2, cert-spec §2): type 2, the
// RSA identity's self-signed X.509; type 4, identity -> signing key; type 5, signing key -> SHA-256
// of the TLS certificate; type 7, the RSA identity cross-certifying the Ed25519 identity. Built to
// pass the initiator's checklist in src/tor/channel/certs-check.ts.

import { constants, createHash, privateEncrypt } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
import { Writer } from '../../wire/bytes.js'
import type { CertEntry } from '../../wire/tor/chan-msg.js'
import {
  CertKeyType,
  CertType,
  EXT_SIGNED_WITH_ED25519_KEY,
  RSA_ED25519_CROSSCERT_PREFIX,
  encodeEd25519Cert,
  encodeEd25519CertBody,
  encodeRsaEd25519CrossCert,
  type CertExtension,
} from '../../wire/tor/ed25519-cert.js'
import type { RelayKeys } from './keys.js'

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

// Lifetimes after tor's defaults: SigningKeyLifetime 30 days, TestingLinkCertLifetime 2 days
// (tor(1)); the RSA->Ed25519 cross-certificate is made for about six months.
export const SIGNING_CERT_LIFETIME_MS = 30 * DAY_MS
export const LINK_CERT_LIFETIME_MS = 2 * DAY_MS
export const CROSSCERT_LIFETIME_MS = 180 * DAY_MS

/** EXPIRATION in hours since the epoch, rounded up so a certificate lives at least `lifetimeMs`. */
const expirationHours = (nowMs: number, lifetimeMs: number) => Math.ceil((nowMs + lifetimeMs) / HOUR_MS)

function signedEd25519Cert(
  signingSecret: Uint8Array,
  fields: { certType: number; expirationHours: number; certKeyType: number; certifiedKey: Uint8Array; extensions: CertExtension[] },
): Uint8Array {
  const signature = ed25519.sign(encodeEd25519CertBody(fields), signingSecret)
  return encodeEd25519Cert({ ...fields, signature })
}

/**
 * cert-spec §2.3: the RSA key signs SHA-256(prefix | ED25519_KEY | EXPIRATION_DATE) with PKCS#1
 * v1.5 type-1 padding around the bare digest (no DigestInfo), which is what privateEncrypt does.
 */
function rsaEd25519CrossCert(keys: RelayKeys, expiration: number): Uint8Array {
  const signed = new Writer().bytes(keys.ed25519Identity.public).u32(expiration).finish()
  const digest = createHash('sha256').update(RSA_ED25519_CROSSCERT_PREFIX).update(signed).digest()
  const signature = new Uint8Array(privateEncrypt({ key: keys.rsaIdentity, padding: constants.RSA_PKCS1_PADDING }, digest))
  return encodeRsaEd25519CrossCert({ ed25519Key: keys.ed25519Identity.public, expirationHours: expiration, signature })
}

/** The responder's CERTS entries (types 2, 4, 5, 7) as of `nowMs`; deterministic for given keys. */
export function relayCerts(keys: RelayKeys, nowMs: number): CertEntry[] {
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new RangeError(`nowMs ${nowMs} is not a time`)
  const identityVSigning = signedEd25519Cert(keys.ed25519Identity.secret, {
    certType: CertType.IDENTITY_V_SIGNING,
    expirationHours: expirationHours(nowMs, SIGNING_CERT_LIFETIME_MS),
    certKeyType: CertKeyType.ED25519,
    certifiedKey: keys.ed25519Signing.public,
    // The identity travels inside type 4 (tor-spec §4.2): the initiator learns it from here.
    extensions: [{ extType: EXT_SIGNED_WITH_ED25519_KEY, extFlags: 0, extData: keys.ed25519Identity.public }],
  })
  const signingVTls = signedEd25519Cert(keys.ed25519Signing.secret, {
    certType: CertType.SIGNING_V_TLS_CERT,
    expirationHours: expirationHours(nowMs, LINK_CERT_LIFETIME_MS),
    certKeyType: CertKeyType.SHA256_OF_X509,
    certifiedKey: new Uint8Array(createHash('sha256').update(keys.tls.certDer).digest()),
    extensions: [],
  })
  return [
    { certType: CertType.RSA_ID_X509, body: keys.rsaIdentityCertDer },
    { certType: CertType.IDENTITY_V_SIGNING, body: identityVSigning },
    { certType: CertType.SIGNING_V_TLS_CERT, body: signingVTls },
    { certType: CertType.RSA_ID_V_ED25519, body: rsaEd25519CrossCert(keys, expirationHours(nowMs, CROSSCERT_LIFETIME_MS)) },
  ]
}

// Tor's own certificate formats (cert-spec.txt §2.1 Ed25519 certificates, §2.2 extensions,
// §2.3 RSA->Ed25519 cross-certificate). Codec only: signature checks live in src/crypto/tor.

import { Reader, WireError, Writer, within } from '../bytes.js'

/** CERT_TYPE values (cert-spec §A.1; also the CERTS cell's CertType, tor-spec §4.2). */
export const CertType = {
  LINK_X509: 1,
  RSA_ID_X509: 2,
  RSA_AUTH_X509: 3,
  IDENTITY_V_SIGNING: 4,
  SIGNING_V_TLS_CERT: 5,
  SIGNING_V_LINK_AUTH: 6,
  RSA_ID_V_ED25519: 7,
} as const

/** CERT_KEY_TYPE (cert-spec §2.1): what CERTIFIED_KEY is. */
export const CertKeyType = { ED25519: 1, SHA256_OF_RSA: 2, SHA256_OF_X509: 3 } as const

/** Extension type 4: the Ed25519 key that signed this certificate. */
export const EXT_SIGNED_WITH_ED25519_KEY = 4
/** ExtFlags bit 1: a verifier that does not know this extension must reject the certificate. */
export const EXT_FLAG_AFFECTS_VALIDATION = 1

export interface CertExtension {
  extType: number
  extFlags: number
  extData: Uint8Array
}

export interface Ed25519Cert {
  version: 1
  certType: number
  /** Hours since the Unix epoch after which the certificate is invalid. */
  expirationHours: number
  certKeyType: number
  certifiedKey: Uint8Array
  extensions: CertExtension[]
  signature: Uint8Array
  /** The bytes the signature covers (everything before SIGNATURE), for the verifier. */
  signed: Uint8Array
}

const KEY_LEN = 32
const SIG_LEN = 64

export function decodeEd25519Cert(bytes: Uint8Array): Ed25519Cert {
  return within(new Reader(bytes, 'Ed25519 certificate'), (r) => {
    const version = r.u8()
    if (version !== 1) throw new WireError('unsupported', `Ed25519 certificate version ${version}`)
    const certType = r.u8()
    const expirationHours = r.u32()
    const certKeyType = r.u8()
    const certifiedKey = r.bytes(KEY_LEN)
    const n = r.u8()
    const extensions: CertExtension[] = []
    for (let i = 0; i < n; i++) {
      const extLen = r.u16()
      const extType = r.u8()
      const extFlags = r.u8()
      const extData = r.bytes(extLen)
      if (extType === EXT_SIGNED_WITH_ED25519_KEY && extLen !== KEY_LEN) {
        throw new WireError('bad-length', `signed-with-ed25519-key extension of ${extLen} bytes`)
      }
      extensions.push({ extType, extFlags, extData })
    }
    const signed = bytes.subarray(0, r.offset)
    const signature = r.bytes(SIG_LEN)
    return { version: 1, certType, expirationHours, certKeyType, certifiedKey, extensions, signature, signed }
  })
}

/** The bytes to sign for a certificate with these fields (everything before SIGNATURE). */
export function encodeEd25519CertBody(c: Omit<Ed25519Cert, 'signature' | 'signed' | 'version'>): Uint8Array {
  if (c.certifiedKey.length !== KEY_LEN) throw new WireError('bad-length', 'CERTIFIED_KEY must be 32 bytes')
  const w = new Writer()
  w.u8(1).u8(c.certType).u32(c.expirationHours).u8(c.certKeyType).bytes(c.certifiedKey).u8(c.extensions.length)
  for (const e of c.extensions) {
    if (e.extType === EXT_SIGNED_WITH_ED25519_KEY && e.extData.length !== KEY_LEN) throw new WireError('bad-length', 'signed-with-ed25519-key must be 32 bytes')
    w.u16(e.extData.length).u8(e.extType).u8(e.extFlags).bytes(e.extData)
  }
  return w.finish()
}

export function encodeEd25519Cert(c: Omit<Ed25519Cert, 'signed' | 'version'>): Uint8Array {
  if (c.signature.length !== SIG_LEN) throw new WireError('bad-length', 'SIGNATURE must be 64 bytes')
  const body = encodeEd25519CertBody(c)
  const out = new Uint8Array(body.length + SIG_LEN)
  out.set(body)
  out.set(c.signature, body.length)
  return out
}

/** The key in the signed-with-ed25519-key extension, if the certificate carries one. */
export function certSigningKey(c: Ed25519Cert): Uint8Array | undefined {
  return c.extensions.find((e) => e.extType === EXT_SIGNED_WITH_ED25519_KEY)?.extData
}

/** True when the certificate has an extension we do not know that says it affects validation. */
export function hasUnknownCriticalExtension(c: Ed25519Cert): boolean {
  return c.extensions.some((e) => e.extType !== EXT_SIGNED_WITH_ED25519_KEY && (e.extFlags & EXT_FLAG_AFFECTS_VALIDATION) !== 0)
}

/** RSA->Ed25519 cross-certificate, CERTS type 7 (cert-spec §2.3). */
export interface RsaEd25519CrossCert {
  ed25519Key: Uint8Array
  /** Hours since the Unix epoch. */
  expirationHours: number
  signature: Uint8Array
  /** ED25519_KEY | EXPIRATION: what (prefixed) the RSA signature covers. */
  signed: Uint8Array
}

/** cert-spec §2.3: the RSA signature is over SHA-256 of this prefix followed by `signed`. */
export const RSA_ED25519_CROSSCERT_PREFIX = 'Tor TLS RSA/Ed25519 cross-certificate'

export function decodeRsaEd25519CrossCert(bytes: Uint8Array): RsaEd25519CrossCert {
  return within(new Reader(bytes, 'RSA->Ed25519 cross-certificate'), (r) => {
    const ed25519Key = r.bytes(KEY_LEN)
    const expirationHours = r.u32()
    const signed = bytes.subarray(0, r.offset)
    const signature = r.vec8().rest()
    return { ed25519Key, expirationHours, signature, signed }
  })
}

export function encodeRsaEd25519CrossCert(c: Omit<RsaEd25519CrossCert, 'signed'>): Uint8Array {
  if (c.ed25519Key.length !== KEY_LEN) throw new WireError('bad-length', 'ED25519_KEY must be 32 bytes')
  return new Writer().bytes(c.ed25519Key).u32(c.expirationHours).vec8((w) => w.bytes(c.signature)).finish()
}

// The initiator's CERTS checklist (tor-spec §4.2, "Validating a relay's CERTS cell"): exactly one
// each of types 2, 4, 5, 7; every certificate in date at the World clock's time and correctly
// signed; the RSA identity key 1024-bit and self-signed; type 4 signed by the Ed25519 identity it
// embeds; type 5 signed by type 4's signing key and certifying the TLS certificate actually
// presented; type 7 cross-certifying that Ed25519 identity with the RSA key; then the identities
// compared with the ones we expected, when we know them.

import { X509Certificate, createHash } from 'node:crypto'
import { WireError, equalBytes, toHex } from '../../wire/bytes.js'
import type { CertEntry } from '../../wire/tor/chan-msg.js'
import { CertKeyType, CertType, certSigningKey, decodeEd25519Cert, decodeRsaEd25519CrossCert } from '../../wire/tor/ed25519-cert.js'
import { checkEd25519Cert, checkRsaEd25519CrossCert, rsaIdentityFingerprint, rsaKeyBits } from '../../crypto/tor/cert-signatures.js'
import { ChannelError } from '../errors.js'

export interface RelayIdentity {
  /** SHA-1 of the PKCS#1 DER RSA identity key (20 bytes). */
  rsaId: Uint8Array
  /** Ed25519 master identity key (32 bytes). */
  ed25519Id: Uint8Array
}

export interface ExpectedIdentity {
  rsaId?: Uint8Array
  ed25519Id?: Uint8Array
}

const fail = (detail: string): never => {
  throw new ChannelError('certs', detail)
}

function x509(der: Uint8Array, what: string): X509Certificate {
  try {
    return new X509Certificate(der)
  } catch {
    return fail(`${what} is not an X.509 certificate`)
  }
}

function parsed<T>(what: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof WireError) return fail(`${what}: ${e.message}`)
    throw e
  }
}

/**
 * Runs the checklist on a CERTS cell's entries; `tlsCertDer` is the certificate the relay presented
 * in the TLS handshake on this connection. Returns the relay's proven identities, or throws a
 * ChannelError ('certs' for a bad chain, 'identity' for a good chain of the wrong relay).
 */
export function checkRelayCerts(certs: CertEntry[], tlsCertDer: Uint8Array, nowMs: number, expected: ExpectedIdentity = {}): RelayIdentity {
  const byType = new Map<number, Uint8Array>()
  for (const c of certs) {
    if (byType.has(c.certType)) fail(`more than one certificate of type ${c.certType}`)
    byType.set(c.certType, c.body)
  }
  const need = (t: number) => byType.get(t) ?? fail(`no certificate of type ${t}`)
  const rsaDer = need(CertType.RSA_ID_X509)
  const idToSigning = parsed('type 4', () => decodeEd25519Cert(need(CertType.IDENTITY_V_SIGNING)))
  const signingToTls = parsed('type 5', () => decodeEd25519Cert(need(CertType.SIGNING_V_TLS_CERT)))
  const cross = parsed('type 7', () => decodeRsaEd25519CrossCert(need(CertType.RSA_ID_V_ED25519)))

  // RSA identity: X.509, in date, self-signed, 1024-bit.
  const rsaCert = x509(rsaDer, 'type 2')
  const from = Date.parse(rsaCert.validFrom)
  const to = Date.parse(rsaCert.validTo)
  if (!(nowMs >= from && nowMs <= to)) fail(`type 2 certificate not valid now (${rsaCert.validFrom} .. ${rsaCert.validTo})`)
  const rsaKey = rsaCert.publicKey
  if (rsaKey.asymmetricKeyType !== 'rsa' || rsaKeyBits(rsaKey) !== 1024) fail('type 2 key is not RSA-1024')
  if (!rsaCert.verify(rsaKey)) fail('type 2 certificate is not self-signed by its key')

  // Ed25519 chain: identity -> signing (type 4), signing -> TLS certificate digest (type 5).
  if (idToSigning.certType !== CertType.IDENTITY_V_SIGNING) fail(`type 4 entry holds a cert of type ${idToSigning.certType}`)
  if (idToSigning.certKeyType !== CertKeyType.ED25519) fail('type 4 does not certify an Ed25519 key')
  const ed25519Id = certSigningKey(idToSigning) ?? fail('type 4 lacks the signed-with-ed25519-key extension')
  const c4 = checkEd25519Cert(idToSigning, nowMs, ed25519Id)
  if (!c4.ok) fail(`type 4: ${c4.reason}`)
  const signingKey = idToSigning.certifiedKey

  if (signingToTls.certType !== CertType.SIGNING_V_TLS_CERT) fail(`type 5 entry holds a cert of type ${signingToTls.certType}`)
  // cert-spec: old tors wrote key type 01 here; accept it as well as 03.
  if (signingToTls.certKeyType !== CertKeyType.SHA256_OF_X509 && signingToTls.certKeyType !== CertKeyType.ED25519) fail('type 5 certified key type')
  const c5 = checkEd25519Cert(signingToTls, nowMs, signingKey)
  if (!c5.ok) fail(`type 5: ${c5.reason}`)
  const tlsDigest = new Uint8Array(createHash('sha256').update(tlsCertDer).digest())
  if (!equalBytes(signingToTls.certifiedKey, tlsDigest)) fail('type 5 does not certify the TLS certificate presented on this connection')

  // RSA -> Ed25519 cross-certificate.
  if (!equalBytes(cross.ed25519Key, ed25519Id)) fail('type 7 cross-certifies another Ed25519 key')
  const c7 = checkRsaEd25519CrossCert(cross, rsaKey, nowMs)
  if (!c7.ok) fail(`type 7: ${c7.reason}`)

  const rsaId = rsaIdentityFingerprint(rsaKey)
  if (expected.rsaId && !equalBytes(expected.rsaId, rsaId)) {
    throw new ChannelError('identity', `RSA identity ${toHex(rsaId)} is not the expected ${toHex(expected.rsaId)}`)
  }
  if (expected.ed25519Id && !equalBytes(expected.ed25519Id, ed25519Id)) {
    throw new ChannelError('identity', `Ed25519 identity ${toHex(ed25519Id)} is not the expected ${toHex(expected.ed25519Id)}`)
  }
  return { rsaId, ed25519Id: ed25519Id.slice() }
}

// Directory authority key certificates (dir-spec §3.1): the long-term identity key certifies a
// medium-term signing key, which signs consensuses. A certificate is usable when its fingerprint is
// the configured v3ident, the identity key signed it (dir-key-certification), the signing key
// cross-signed the identity (dir-key-crosscert), and it has not expired at the World clock's time.

import { WireError, equalBytes } from '../../wire/bytes.js'
import type { KeyObject } from 'node:crypto'
import { hexExact, parseTime, tokenize, type NetdocItem } from './netdoc.js'
import { rsaKeyFromObject, rsaVerifyDigest, sha1 } from './rsa.js'

export interface AuthorityCert {
  /** v3 identity: SHA-1 of the identity key's PKCS#1 DER. */
  fingerprint: Uint8Array
  published: number
  expires: number
  identityKey: KeyObject
  signingKey: KeyObject
  /** SHA-1 of the signing key's DER: what consensus signatures name. */
  signingKeyDigest: Uint8Array
  /** Both signatures verified. */
  signaturesValid: boolean
}

function one(items: NetdocItem[], kw: string, what: string): NetdocItem {
  const found = items.filter((i) => i.keyword === kw)
  if (found.length !== 1) throw new WireError('bad-value', `${what}: want exactly one ${kw}, found ${found.length}`)
  return found[0]
}

/** Splits a /tor/keys/all answer into certificates and parses each. */
export function parseAuthorityCerts(text: string): AuthorityCert[] {
  const starts: number[] = []
  const re = /^dir-key-certificate-version /gm
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push(m.index)
  if (starts.length === 0) throw new WireError('bad-value', 'no authority certificate')
  return starts.map((s, i) => parseAuthorityCert(text.slice(s, starts[i + 1] ?? text.length)))
}

export function parseAuthorityCert(text: string): AuthorityCert {
  const what = 'authority certificate'
  const items = tokenize(text, what)
  if (items[0]?.keyword !== 'dir-key-certificate-version' || items[0].args[0] !== '3') throw new WireError('unsupported', `${what}: not version 3`)
  const fingerprint = hexExact(one(items, 'fingerprint', what).args[0], 20, `${what} fingerprint`)
  const pub = one(items, 'dir-key-published', what)
  const exp = one(items, 'dir-key-expires', what)
  const published = parseTime(pub.args[0], pub.args[1], `${what} published`)
  const expires = parseTime(exp.args[0], exp.args[1], `${what} expires`)
  const identity = rsaKeyFromObject(one(items, 'dir-identity-key', what).object, `${what} identity key`)
  const signing = rsaKeyFromObject(one(items, 'dir-signing-key', what).object, `${what} signing key`)
  const cross = one(items, 'dir-key-crosscert', what)
  const cert = one(items, 'dir-key-certification', what)
  if (items[items.length - 1] !== cert) throw new WireError('trailing', `${what}: items after dir-key-certification`)
  if (!cross.object || !cert.object) throw new WireError('bad-value', `${what}: signature objects missing`)
  // The certification covers everything from the start through the newline after its keyword.
  const signedText = text.slice(0, cert.start) + 'dir-key-certification\n'
  const certOk = rsaVerifyDigest(identity.key, sha1(signedText), cert.object.bytes)
  // The cross-certification: the signing key signs SHA-1 of the identity key's DER.
  const crossOk = rsaVerifyDigest(signing.key, sha1(identity.der), cross.object.bytes)
  const idOk = equalBytes(sha1(identity.der), fingerprint)
  return {
    fingerprint,
    published,
    expires,
    identityKey: identity.key,
    signingKey: signing.key,
    signingKeyDigest: sha1(signing.der),
    signaturesValid: certOk && crossOk && idOk,
  }
}

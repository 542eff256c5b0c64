// A minimal self-signed X.509 v3 certificate (RFC 5280 §4.1), DER-encoded by hand because node
// can parse certificates but not make them. Simulated relays need one for their TLS link and one
// for their RSA identity (CERTS type 2). Both signature algorithms used here are deterministic
// (PKCS#1 v1.5 and Ed25519), so the same key and fields give the same bytes.

import { createPublicKey, sign, type KeyObject } from 'node:crypto'

export interface SelfSignedOptions {
  /** Private key, RSA or Ed25519; also the subject's key. */
  key: KeyObject
  commonName: string
  notBeforeMs: number
  notAfterMs: number
  /** Serial number, big-endian unsigned, 1..20 bytes (RFC 5280 §4.1.2.2). */
  serial: Uint8Array
}

// --- DER (X.690) ---

function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n)
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Uint8Array.of(0x80 | bytes.length, ...bytes)
}

function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const len = content.reduce((s, c) => s + c.length, 0)
  const head = derLength(len)
  const out = new Uint8Array(1 + head.length + len)
  out[0] = tag
  out.set(head, 1)
  let at = 1 + head.length
  for (const c of content) {
    out.set(c, at)
    at += c.length
  }
  return out
}

const sequence = (...items: Uint8Array[]) => tlv(0x30, ...items)
const set = (...items: Uint8Array[]) => tlv(0x31, ...items)
const explicit = (n: number, inner: Uint8Array) => tlv(0xa0 | n, inner)
const derNull = () => Uint8Array.of(0x05, 0x00)
const bitString = (bytes: Uint8Array) => tlv(0x03, Uint8Array.of(0), bytes)
const utf8String = (s: string) => tlv(0x0c, new TextEncoder().encode(s))

/** INTEGER from big-endian unsigned bytes: minimal, with a 0x00 pad when the top bit is set. */
function unsignedInteger(bytes: Uint8Array): Uint8Array {
  let i = 0
  while (i < bytes.length - 1 && bytes[i] === 0) i++
  const v = bytes.subarray(i)
  return v[0] & 0x80 ? tlv(0x02, Uint8Array.of(0), v) : tlv(0x02, v)
}

function objectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number)
  const out: number[] = [40 * arcs[0] + arcs[1]]
  for (const arc of arcs.slice(2)) {
    const base128: number[] = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v & 0x7f))
    out.push(...base128)
  }
  return tlv(0x06, Uint8Array.from(out))
}

const pad2 = (n: number) => String(n).padStart(2, '0')

/** RFC 5280 §4.1.2.5: UTCTime for 1950..2049, GeneralizedTime otherwise; whole seconds, Zulu. */
export function derTime(ms: number): Uint8Array {
  if (!Number.isFinite(ms)) throw new RangeError(`certificate time ${ms} is not finite`)
  const d = new Date(Math.floor(ms / 1000) * 1000)
  const year = d.getUTCFullYear()
  if (!(year >= 0 && year <= 9999)) throw new RangeError(`certificate year ${year} out of range`)
  const rest = pad2(d.getUTCMonth() + 1) + pad2(d.getUTCDate()) + pad2(d.getUTCHours()) + pad2(d.getUTCMinutes()) + pad2(d.getUTCSeconds()) + 'Z'
  const ascii = (s: string) => new TextEncoder().encode(s)
  if (year >= 1950 && year <= 2049) return tlv(0x17, ascii(pad2(year % 100) + rest))
  return tlv(0x18, ascii(String(year).padStart(4, '0') + rest))
}

// --- the certificate ---

const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11' // RFC 4055 §5
const OID_ED25519 = '1.3.101.112' // RFC 8410 §3
const OID_COMMON_NAME = '2.5.4.3' // X.520

interface Signer {
  algorithm: Uint8Array
  sign(tbs: Uint8Array): Uint8Array
}

function signerFor(key: KeyObject): Signer {
  if (key.type !== 'private') throw new TypeError('a self-signed certificate needs the private key')
  switch (key.asymmetricKeyType) {
    case 'rsa':
      // RFC 4055 §5: the parameters of sha256WithRSAEncryption are an explicit NULL.
      return { algorithm: sequence(objectIdentifier(OID_SHA256_WITH_RSA), derNull()), sign: (tbs) => new Uint8Array(sign('sha256', tbs, key)) }
    case 'ed25519':
      // RFC 8410 §3: Ed25519 has no parameters at all.
      return { algorithm: sequence(objectIdentifier(OID_ED25519)), sign: (tbs) => new Uint8Array(sign(null, tbs, key)) }
    default:
      throw new TypeError(`unsupported key type ${key.asymmetricKeyType} for a self-signed certificate`)
  }
}

/** DER of a self-signed X.509 v3 certificate whose subject and issuer are CN=`commonName`. */
export function selfSignedCertificate(opts: SelfSignedOptions): Uint8Array {
  const { key, commonName, notBeforeMs, notAfterMs, serial } = opts
  if (serial.length < 1 || serial.length > 20 || serial.every((b) => b === 0)) throw new RangeError('serial must be 1..20 bytes and positive')
  if (!(notBeforeMs <= notAfterMs)) throw new RangeError('notBefore is after notAfter')
  const signer = signerFor(key)
  const name = sequence(set(sequence(objectIdentifier(OID_COMMON_NAME), utf8String(commonName))))
  const spki = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }))
  const tbs = sequence(
    explicit(0, unsignedInteger(Uint8Array.of(2))), // version v3
    unsignedInteger(serial),
    signer.algorithm,
    name, // issuer
    sequence(derTime(notBeforeMs), derTime(notAfterMs)),
    name, // subject
    spki,
  )
  return sequence(tbs, signer.algorithm, bitString(signer.sign(tbs)))
}

/** PEM armour for a DER certificate (RFC 7468 §5). */
export function certificatePem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64')
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`
}

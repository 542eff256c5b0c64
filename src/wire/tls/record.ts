// TLS record layer framing (RFC 8446 §5.1, RFC 5246 §6.2). Pure: bytes in, typed value out.

import { WireError } from '../bytes.js'

/** ContentType (RFC 8446 §5.1; heartbeat from RFC 6520). */
export const ContentType = {
  changeCipherSpec: 20,
  alert: 21,
  handshake: 22,
  applicationData: 23,
  heartbeat: 24,
} as const

export interface TlsRecord {
  type: number // ContentType
  legacyVersion: number // ProtocolVersion on the wire (0x0301 or 0x0303 in practice); never trusted
  fragment: Uint8Array
}

export const RECORD_HEADER_LENGTH = 5
/** TLSCiphertext.length limit (RFC 8446 §5.2); it is also the largest TLS 1.2 record (RFC 5246 §6.2.3 allows 2^14+2048, nobody sends that). */
export const MAX_RECORD_FRAGMENT = 2 ** 14 + 256
export const MAX_RECORD_LENGTH = RECORD_HEADER_LENGTH + MAX_RECORD_FRAGMENT

/**
 * Checks a record header. A stream whose first bytes are not a TLS header (HTTP, SSLv2, noise)
 * is rejected here, so callers stop instead of waiting for a 60 KiB "record".
 */
function checkHeader(type: number, legacyVersion: number, length: number): void {
  if (type < ContentType.changeCipherSpec || type > ContentType.heartbeat) {
    throw new WireError('bad-value', `TLS record: unknown ContentType ${type}`)
  }
  if (legacyVersion >> 8 !== 0x03) {
    throw new WireError('bad-value', `TLS record: ProtocolVersion major ${legacyVersion >> 8} is not 3`)
  }
  if (length > MAX_RECORD_FRAGMENT) {
    throw new WireError('bad-length', `TLS record: length ${length} > ${MAX_RECORD_FRAGMENT}`)
  }
}

export interface RecordHeader {
  type: number
  legacyVersion: number
  length: number
}

/** The checked 5-byte header at the front of `buf` (which must hold at least 5 bytes). */
export function decodeRecordHeader(buf: Uint8Array): RecordHeader {
  const type = buf[0]
  const legacyVersion = (buf[1] << 8) | buf[2]
  const length = (buf[3] << 8) | buf[4]
  checkHeader(type, legacyVersion, length)
  return { type, legacyVersion, length }
}

/** Decodes one record from the front of `buf`; `fragment` is a view into `buf`. */
export function decodeRecord(buf: Uint8Array): { record: TlsRecord; used: number } {
  if (buf.length < RECORD_HEADER_LENGTH) {
    // Reject a bad type/version as soon as those bytes are here, not only once 5 are.
    if (buf.length >= 1 && (buf[0] < ContentType.changeCipherSpec || buf[0] > ContentType.heartbeat)) {
      checkHeader(buf[0], 0x0300, 0)
    }
    if (buf.length >= 2 && buf[1] !== 0x03) checkHeader(buf[0], buf[1] << 8, 0)
    throw WireError.truncated(RECORD_HEADER_LENGTH - buf.length, 'TLS record header')
  }
  const { type, legacyVersion, length } = decodeRecordHeader(buf)
  const used = RECORD_HEADER_LENGTH + length
  if (buf.length < used) throw WireError.truncated(used - buf.length, 'TLS record')
  return { record: { type, legacyVersion, fragment: buf.subarray(RECORD_HEADER_LENGTH, used) }, used }
}

export function encodeRecord(r: TlsRecord): Uint8Array {
  checkHeader(r.type, r.legacyVersion, r.fragment.length)
  const out = new Uint8Array(RECORD_HEADER_LENGTH + r.fragment.length)
  out[0] = r.type
  out[1] = r.legacyVersion >> 8
  out[2] = r.legacyVersion & 0xff
  out[3] = r.fragment.length >> 8
  out[4] = r.fragment.length & 0xff
  out.set(r.fragment, RECORD_HEADER_LENGTH)
  return out
}

/** The 5-byte header alone: TLS 1.3 uses it as the AEAD additional_data (RFC 8446 §5.2). */
export function encodeRecordHeader(type: number, legacyVersion: number, length: number): Uint8Array {
  return Uint8Array.of(type, legacyVersion >> 8, legacyVersion & 0xff, length >> 8, length & 0xff)
}

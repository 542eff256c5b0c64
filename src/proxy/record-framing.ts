// record-split's rewrite: the ClientHello handshake message re-framed as several TLS handshake
// records. Valid TLS: RFC 8446 §5.1 lets a handshake message span records, and the record headers
// are not in the transcript hash, so the server's Finished still verifies. Only the framing changes;
// the handshake bytes are the client's, byte for byte.

import { concatBytes, WireError } from '../wire/bytes.js'
import { ContentType, decodeRecord, encodeRecordHeader } from '../wire/tls/record.js'
import { defaultCuts } from './sni-position.js'

export interface Reframed {
  bytes: Uint8Array
  /** Cut points used, as offsets into the handshake bytes. */
  cuts: number[]
  records: number
}

/** Concatenated fragments of the leading handshake records in `raw`, and the record version used. */
export function handshakeBytesOf(raw: Uint8Array): { handshake: Uint8Array; legacyVersion: number; used: number } {
  const parts: Uint8Array[] = []
  let at = 0
  let legacyVersion = 0x0301
  while (at < raw.length) {
    const { record, used } = decodeRecord(raw.subarray(at))
    if (record.type !== ContentType.handshake) break
    if (at === 0) legacyVersion = record.legacyVersion
    parts.push(record.fragment)
    at += used
  }
  if (parts.length === 0) throw new WireError('bad-value', 'record-split: no handshake record to split')
  return { handshake: concatBytes(...parts), legacyVersion, used: at }
}

/**
 * Re-frames the handshake records at the front of `raw` at `cuts` (offsets into the handshake
 * bytes; default: inside the SNI `name`). Bytes after those records are appended unchanged.
 */
export function reframeHandshake(raw: Uint8Array, name: string | undefined, cuts?: number[]): Reframed {
  const { handshake, legacyVersion, used } = handshakeBytesOf(raw)
  const points = [...new Set(cuts ?? defaultCuts(handshake, name))].filter((c) => c > 0 && c < handshake.length).sort((a, b) => a - b)
  const bounds = [0, ...points, handshake.length]
  const parts: Uint8Array[] = []
  for (let i = 0; i + 1 < bounds.length; i++) {
    const frag = handshake.subarray(bounds[i], bounds[i + 1])
    parts.push(encodeRecordHeader(ContentType.handshake, legacyVersion, frag.length), frag)
  }
  parts.push(raw.subarray(used))
  return { bytes: concatBytes(...parts), cuts: points, records: bounds.length - 1 }
}

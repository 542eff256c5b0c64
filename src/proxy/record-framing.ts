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

/**
 * The records at the front of `raw` that carry the first handshake message (the ClientHello),
 * their concatenated fragments, and the record version used. Bytes after the record that
 * completes the message are not looked at.
 */
export function handshakeBytesOf(raw: Uint8Array): { handshake: Uint8Array; legacyVersion: number; used: number } {
  const parts: Uint8Array[] = []
  let have = 0
  let at = 0
  let legacyVersion = 0x0301
  const complete = () => {
    if (have < 4) return false
    const all = concatBytes(...parts)
    return have >= 4 + ((all[1] << 16) | (all[2] << 8) | all[3])
  }
  while (!complete()) {
    const { record, used } = decodeRecord(raw.subarray(at))
    if (record.type !== ContentType.handshake) throw new WireError('bad-value', 'record-split: a non-handshake record before the ClientHello ends')
    if (at === 0) legacyVersion = record.legacyVersion
    parts.push(record.fragment)
    have += record.fragment.length
    at += used
  }
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

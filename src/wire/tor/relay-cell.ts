// The tor1 ("V0") relay cell header inside a RELAY / RELAY_EARLY body (tor-spec §6.1,
// relay-cells.html): Relay command(1) | Recognized(2) | StreamID(2) | Digest(4) | Length(2) |
// Data(Length) | Padding to 509.

import { Reader, WireError, Writer } from '../bytes.js'
import { CELL_BODY_LEN } from './cell.js'

export const RELAY_HEADER_LEN = 11
/** RELAY_PAYLOAD_SIZE_MAX (or.h): 509 - 11. */
export const RELAY_DATA_MAX = CELL_BODY_LEN - RELAY_HEADER_LEN
/** Offsets the relay crypto layer needs without decoding the whole cell. */
export const RECOGNIZED_OFFSET = 1
export const DIGEST_OFFSET = 5
export const DIGEST_LEN = 4
/** prop 289: the first 4 bytes after the data stay zero; only the rest of the padding is random. */
export const ZERO_PAD_LEN = 4

export interface RelayCell {
  relayCommand: number
  recognized: number
  streamId: number
  digest: Uint8Array
  data: Uint8Array
}

/** Decodes a 509-byte relay body (after decryption). Padding after the data is ignored. */
export function decodeRelayCell(body: Uint8Array): RelayCell {
  if (body.length !== CELL_BODY_LEN) throw new WireError('bad-length', `relay body of ${body.length} bytes, want ${CELL_BODY_LEN}`)
  const r = new Reader(body, 'relay cell')
  const relayCommand = r.u8()
  const recognized = r.u16()
  const streamId = r.u16()
  const digest = r.bytes(DIGEST_LEN)
  const length = r.u16()
  if (length > RELAY_DATA_MAX) throw new WireError('bad-length', `relay cell Length ${length} > ${RELAY_DATA_MAX}`)
  return { relayCommand, recognized, streamId, digest, data: r.bytes(length) }
}

/**
 * Encodes a relay body of exactly 509 bytes. `randomPadding` (from the caller's World) fills the
 * padding after four zero bytes as prop 289 asks; without it the padding is all zeros.
 */
export function encodeRelayCell(cell: RelayCell, randomPadding?: Uint8Array): Uint8Array {
  if (cell.data.length > RELAY_DATA_MAX) throw new WireError('bad-length', `relay data of ${cell.data.length} > ${RELAY_DATA_MAX}`)
  if (cell.digest.length !== DIGEST_LEN) throw new WireError('bad-length', 'relay digest must be 4 bytes')
  const w = new Writer(CELL_BODY_LEN)
  w.u8(cell.relayCommand).u16(cell.recognized).u16(cell.streamId).bytes(cell.digest).u16(cell.data.length).bytes(cell.data)
  const out = new Uint8Array(CELL_BODY_LEN)
  out.set(w.finish())
  const padFrom = RELAY_HEADER_LEN + cell.data.length + ZERO_PAD_LEN
  if (randomPadding && padFrom < CELL_BODY_LEN) out.set(randomPadding.subarray(0, CELL_BODY_LEN - padFrom), padFrom)
  return out
}

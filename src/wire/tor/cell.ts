// Channel cells (tor-spec §3, "Cell Packet format"; spec.torproject.org/tor-spec/cell-packet-format.html).
// Framing only: CircID | Command | body, where the body is 509 bytes for fixed-length cells and
// u16-length-prefixed for variable-length ones. What a body means is chan-msg.ts's business.

import { WireError, Writer, concatBytes } from '../bytes.js'

/** Channel commands (tor-spec §3, table of CMD values). */
export const ChanCmd = {
  PADDING: 0,
  CREATE: 1,
  CREATED: 2,
  RELAY: 3,
  DESTROY: 4,
  CREATE_FAST: 5,
  CREATED_FAST: 6,
  VERSIONS: 7,
  NETINFO: 8,
  RELAY_EARLY: 9,
  CREATE2: 10,
  CREATED2: 11,
  PADDING_NEGOTIATE: 12,
  VPADDING: 128,
  CERTS: 129,
  AUTH_CHALLENGE: 130,
  AUTHENTICATE: 131,
  AUTHORIZE: 132,
} as const

/** Body length of every fixed-length cell (CELL_BODY_LEN / PAYLOAD_LEN). */
export const CELL_BODY_LEN = 509
/** Largest variable-length body the u16 length field can state. */
export const MAX_VAR_BODY_LEN = 0xffff

/** VERSIONS (7) and every command >= 128 are variable-length; the rest are fixed (tor-spec §3). */
export function isVariableLength(command: number): boolean {
  return command === ChanCmd.VERSIONS || command >= 128
}

/** Link protocol 4 and later use 4-byte circuit IDs; 3 and earlier 2-byte ones (tor-spec §3). */
export function circIdLenFor(linkVersion: number): 2 | 4 {
  return linkVersion >= 4 ? 4 : 2
}

export interface ChannelCell {
  circId: number
  command: number
  /** Fixed-length cells: exactly 509 bytes once decoded (shorter bodies are zero-padded when encoded). */
  body: Uint8Array
}

export function encodeCell(cell: ChannelCell, circIdLen: 2 | 4): Uint8Array {
  const w = new Writer(circIdLen + 3 + Math.max(cell.body.length, CELL_BODY_LEN))
  if (circIdLen === 2) w.u16(cell.circId)
  else w.u32(cell.circId)
  w.u8(cell.command)
  if (isVariableLength(cell.command)) {
    if (cell.body.length > MAX_VAR_BODY_LEN) throw new WireError('too-large', `variable cell body of ${cell.body.length} bytes`)
    w.u16(cell.body.length).bytes(cell.body)
  } else {
    if (cell.body.length > CELL_BODY_LEN) throw new WireError('bad-length', `fixed cell body of ${cell.body.length} > ${CELL_BODY_LEN}`)
    w.bytes(cell.body).bytes(new Uint8Array(CELL_BODY_LEN - cell.body.length))
  }
  return w.finish()
}

/** Where the cell starting at `off` lies in `buf`, or how many more bytes its framing needs. */
export type CellFrame = { circId: number; command: number; bodyAt: number; end: number } | { needed: number }

/**
 * Frames the cell at `off`: CircID | Command | [Length] | body. Lengths are checked before each
 * field is read, so a partial cell (the end of almost every chunk of a bulk transfer) costs no
 * exception; `needed` counts like a Reader would for the first field that is short.
 */
export function frameCell(buf: Uint8Array, off: number, circIdLen: 2 | 4): CellFrame {
  const avail = buf.length - off
  if (avail < circIdLen) return { needed: circIdLen - avail }
  if (avail < circIdLen + 1) return { needed: 1 }
  const command = buf[off + circIdLen]
  let bodyAt = off + circIdLen + 1
  let length = CELL_BODY_LEN
  if (isVariableLength(command)) {
    if (buf.length - bodyAt < 2) return { needed: bodyAt + 2 - buf.length }
    length = (buf[bodyAt] << 8) | buf[bodyAt + 1]
    bodyAt += 2
  }
  if (buf.length - bodyAt < length) return { needed: bodyAt + length - buf.length }
  const circId = circIdLen === 2 ? (buf[off] << 8) | buf[off + 1] : ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0
  return { circId, command, bodyAt, end: bodyAt + length }
}

/**
 * Decodes one cell from the front of `buf` (the body is a view into it). A short buffer throws
 * `truncated` with the number of bytes still missing; nothing else can go wrong in framing, since
 * every length is representable.
 */
export function decodeCell(buf: Uint8Array, circIdLen: 2 | 4): { cell: ChannelCell; used: number } {
  const f = frameCell(buf, 0, circIdLen)
  if ('needed' in f) throw WireError.truncated(f.needed, 'channel cell')
  return { cell: { circId: f.circId, command: f.command, body: buf.subarray(f.bodyAt, f.end) }, used: f.end }
}

/**
 * Bytes a reader will hold after VERSIONS while it waits for setLinkVersion. A relay's whole
 * handshake flight (CERTS, AUTH_CHALLENGE, NETINFO) is a few KiB; beyond this the peer is flooding.
 */
export const MAX_HELD_BEFORE_VERSION = 256 * 1024

export type CellEvent = { kind: 'cell'; cell: ChannelCell } | { kind: 'error'; error: WireError }

/**
 * Sans-IO framer: feed bytes in any chunking, get whole cells. The first cell on a channel is
 * VERSIONS and always has a 2-byte CircID; after it the reader holds back the remaining bytes until
 * `setLinkVersion` says which CircID length the negotiated version uses.
 *
 * Each chunk is copied once, into a buffer only this reader holds (callers may reuse theirs); the
 * bodies it hands out are views into that buffer, one disjoint range per cell, so whoever gets a
 * cell may keep it or modify its body in place.
 */
export class CellReader {
  private pending: Uint8Array = new Uint8Array(0)
  private circIdLen: 2 | 4 = 2
  private negotiated = false
  private sawVersions = false
  private failed: WireError | undefined

  /** Call once, after the VERSIONS exchange; returns cells already buffered behind VERSIONS. */
  setLinkVersion(linkVersion: number): CellEvent[] {
    if (!Number.isInteger(linkVersion) || linkVersion < 1 || linkVersion > 0xffff) {
      throw new WireError('bad-value', `link protocol version ${linkVersion}`)
    }
    this.circIdLen = circIdLenFor(linkVersion)
    this.negotiated = true
    return this.drain()
  }

  get linkVersionKnown(): boolean {
    return this.negotiated
  }

  receive(chunk: Uint8Array): CellEvent[] {
    if (this.failed) return [{ kind: 'error', error: this.failed }]
    // What is left over is less than a cell once the link version is known, so this copy is ~ the
    // chunk. (new Uint8Array(chunk) copies even a Buffer, whose slice() would not.)
    this.pending = this.pending.length === 0 ? new Uint8Array(chunk) : concatBytes(this.pending, chunk)
    const events = this.drain()
    if (!this.failed && this.sawVersions && !this.negotiated && this.pending.length > MAX_HELD_BEFORE_VERSION) {
      this.failed = new WireError('too-large', `${this.pending.length} bytes held while the link version is unknown`)
      events.push({ kind: 'error', error: this.failed })
    }
    return events
  }

  /** Frames every whole cell in `pending`. */
  private drain(): CellEvent[] {
    const events: CellEvent[] = []
    if (this.failed) return [{ kind: 'error', error: this.failed }]
    const buf = this.pending
    let off = 0
    while (this.negotiated || !this.sawVersions) {
      const f = frameCell(buf, off, this.circIdLen)
      if ('needed' in f) break
      off = f.end
      if (!this.negotiated && !this.sawVersions) {
        // Only VERSIONS may open a channel; anything else means this is not a Tor link.
        if (f.command !== ChanCmd.VERSIONS) {
          this.failed = new WireError('bad-value', `first cell has command ${f.command}, not VERSIONS`)
          events.push({ kind: 'error', error: this.failed })
          break
        }
        this.sawVersions = true
      }
      events.push({ kind: 'cell', cell: { circId: f.circId, command: f.command, body: buf.subarray(f.bodyAt, f.end) } })
    }
    this.pending = buf.subarray(off)
    return events
  }
}

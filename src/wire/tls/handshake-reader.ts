// Reassembles handshake messages from the fragments of consecutive handshake records
// (RFC 8446 §5.1: several messages may share a record, one message may span several).
// Sans-IO and bounded: a message longer than `maxMessageLength` is refused, not buffered.

import { WireError } from '../bytes.js'
import { HANDSHAKE_HEADER_LENGTH } from './handshake.js'

export interface AssembledHandshake {
  msgType: number
  /** The body (without the 4-byte header); `raw` is header + body, as the transcript hash needs. */
  body: Uint8Array
  raw: Uint8Array
  /** Index (as given to push) of the record holding the message's first and last byte. */
  firstRecord: number
  lastRecord: number
}

export type HandshakeEvent =
  | { kind: 'message'; message: AssembledHandshake }
  | { kind: 'error'; error: WireError; record: number }

export const DEFAULT_MAX_HANDSHAKE_LENGTH = 64 * 1024

export class HandshakeReader {
  private readonly maxMessageLength: number
  private buf: Uint8Array
  private length = 0
  private firstRecord = -1
  private stopped = false

  constructor(options: { maxMessageLength?: number } = {}) {
    this.maxMessageLength = options.maxMessageLength ?? DEFAULT_MAX_HANDSHAKE_LENGTH
    this.buf = new Uint8Array(Math.min(4096, this.maxMessageLength + HANDSHAKE_HEADER_LENGTH))
  }

  get failed(): boolean {
    return this.stopped
  }
  /** Bytes of an unfinished message; non-zero at a key change or end of stream means a cut message. */
  get pending(): number {
    return this.length
  }
  /** Record index where the unfinished message began (-1 if none). */
  get pendingSince(): number {
    return this.length > 0 ? this.firstRecord : -1
  }

  /** Feeds the fragment of the handshake record numbered `recordIndex`. */
  push(fragment: Uint8Array, recordIndex: number): HandshakeEvent[] {
    const events: HandshakeEvent[] = []
    let at = 0
    while (!this.stopped && at < fragment.length) {
      if (this.length === 0) this.firstRecord = recordIndex
      const need = this.bytesWanted()
      if (need < 0) {
        this.stopped = true
        events.push({
          kind: 'error',
          error: new WireError('too-large', `Handshake: message of ${this.declaredLength()} bytes exceeds ${this.maxMessageLength}`),
          record: this.firstRecord,
        })
        break
      }
      const n = Math.min(need, fragment.length - at)
      this.append(fragment.subarray(at, at + n))
      at += n
      if (this.length >= HANDSHAKE_HEADER_LENGTH && this.bytesWanted() === 0) {
        const raw = this.buf.slice(0, this.length)
        events.push({
          kind: 'message',
          message: { msgType: raw[0], body: raw.subarray(HANDSHAKE_HEADER_LENGTH), raw, firstRecord: this.firstRecord, lastRecord: recordIndex },
        })
        this.length = 0
      }
    }
    // A header that already announces too much is refused now, not when its body arrives.
    if (!this.stopped && this.length >= HANDSHAKE_HEADER_LENGTH && this.bytesWanted() < 0) {
      this.stopped = true
      events.push({
        kind: 'error',
        error: new WireError('too-large', `Handshake: message of ${this.declaredLength()} bytes exceeds ${this.maxMessageLength}`),
        record: this.firstRecord,
      })
    }
    return events
  }

  private declaredLength(): number {
    return (this.buf[1] << 16) | (this.buf[2] << 8) | this.buf[3]
  }

  /** Bytes still missing for the current header or message; negative when the message is too large. */
  private bytesWanted(): number {
    if (this.length < HANDSHAKE_HEADER_LENGTH) return HANDSHAKE_HEADER_LENGTH - this.length
    const declared = this.declaredLength()
    if (declared > this.maxMessageLength) return -1
    return HANDSHAKE_HEADER_LENGTH + declared - this.length
  }

  private append(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.length + bytes.length, this.buf.length * 2))
      next.set(this.buf.subarray(0, this.length))
      this.buf = next
    }
    this.buf.set(bytes, this.length)
    this.length += bytes.length
  }
}

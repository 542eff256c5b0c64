// A sans-IO record deframer: feed a byte stream in whatever chunks it arrived in, get whole records
// with their stream offsets. Any chunking of one stream yields the same events; at most one
// maximal record is ever buffered.

import { WireError } from '../bytes.js'
import { decodeRecord, decodeRecordHeader, MAX_RECORD_LENGTH, RECORD_HEADER_LENGTH, type TlsRecord } from './record.js'

export type RecordEvent =
  | { kind: 'record'; record: TlsRecord; offset: number }
  | { kind: 'error'; error: WireError; offset: number }

export class RecordReader {
  /** Bytes of the record in progress; never more than one maximal record. */
  private readonly pending = new Uint8Array(MAX_RECORD_LENGTH)
  private pendingLength = 0
  /** Stream offset of pending[0]. */
  private offset = 0
  private stopped = false

  /** True once a malformed header was seen: later bytes are ignored. */
  get failed(): boolean {
    return this.stopped
  }
  get buffered(): number {
    return this.pendingLength
  }

  push(chunk: Uint8Array): RecordEvent[] {
    const events: RecordEvent[] = []
    let at = 0
    while (!this.stopped && at < chunk.length) {
      if (this.pendingLength === 0) {
        // Fast path: whole records straight out of the chunk.
        const step = this.take(chunk.subarray(at), events)
        if (step === 0) {
          if (this.stopped) break
          this.pending.set(chunk.subarray(at), 0)
          this.pendingLength = chunk.length - at
          break
        }
        at += step
        continue
      }
      // Top the partial record up with just enough bytes to learn (then reach) its length.
      const want = this.pendingLength < RECORD_HEADER_LENGTH
        ? RECORD_HEADER_LENGTH - this.pendingLength
        : RECORD_HEADER_LENGTH + ((this.pending[3] << 8) | this.pending[4]) - this.pendingLength
      const n = Math.min(want, chunk.length - at)
      this.pending.set(chunk.subarray(at, at + n), this.pendingLength)
      this.pendingLength += n
      at += n
      const step = this.take(this.pending.subarray(0, this.pendingLength), events)
      if (step > 0) this.pendingLength = 0
    }
    return events
  }

  /** End of stream: leftover bytes are a record cut short. */
  end(): RecordEvent[] {
    if (this.stopped || this.pendingLength === 0) return []
    const missing = (() => {
      try {
        decodeRecord(this.pending.subarray(0, this.pendingLength))
        return 0
      } catch (e) {
        return e instanceof WireError ? e.needed : 0
      }
    })()
    this.stopped = true
    return [{ kind: 'error', error: WireError.truncated(missing, 'TLS record at end of stream'), offset: this.offset }]
  }

  /**
   * Tries one record at the front of `buf`; returns bytes used (0: need more, or stopped). Lengths
   * are checked before anything is decoded, so the partial record that ends most chunks costs no
   * exception; a bad header stops the reader as soon as its bytes are here.
   */
  private take(buf: Uint8Array, events: RecordEvent[]): number {
    try {
      // Under 5 bytes decodeRecord still judges the type and version bytes that are here, then says truncated.
      if (buf.length < RECORD_HEADER_LENGTH) decodeRecord(buf)
      const { type, legacyVersion, length } = decodeRecordHeader(buf)
      const used = RECORD_HEADER_LENGTH + length
      if (buf.length < used) return 0
      events.push({ kind: 'record', record: { type, legacyVersion, fragment: buf.slice(RECORD_HEADER_LENGTH, used) }, offset: this.offset })
      this.offset += used
      return used
    } catch (e) {
      if (e instanceof WireError && e.code === 'truncated') return 0
      this.stopped = true
      events.push({ kind: 'error', error: e as WireError, offset: this.offset })
      return 0
    }
  }
}

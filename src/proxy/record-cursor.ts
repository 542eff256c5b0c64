// Where a spliced TLS stream stands between records, without keeping any of it: the stall detector
// needs record boundaries (a server that stops inside a record did not choose to stop) and the
// client's record types (application_data is a request), not the bytes. Holds at most one 5-byte
// header; the body is only counted down.

import { isTruncated, WireError } from '../wire/bytes.js'
import { decodeRecord, RECORD_HEADER_LENGTH } from '../wire/tls/record.js'

export interface RecordHeader {
  type: number
  length: number
}

export class RecordCursor {
  private readonly header = new Uint8Array(RECORD_HEADER_LENGTH)
  private have = 0
  private bodyLeft = 0
  private error: WireError | undefined

  /** Set once a header was not TLS (type, version or length out of range): later bytes are not followed. */
  get failed(): WireError | undefined {
    return this.error
  }

  /** Inside a record: part of a header, or a body not yet complete. */
  get midRecord(): boolean {
    return this.have > 0 || this.bodyLeft > 0
  }

  /** Follows `chunk`; returns the headers completed in it, in order. */
  push(chunk: Uint8Array): RecordHeader[] {
    const out: RecordHeader[] = []
    let at = 0
    while (!this.error && at < chunk.length) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, chunk.length - at)
        this.bodyLeft -= n
        at += n
        continue
      }
      const n = Math.min(RECORD_HEADER_LENGTH - this.have, chunk.length - at)
      this.header.set(chunk.subarray(at, at + n), this.have)
      this.have += n
      at += n
      if (this.have < RECORD_HEADER_LENGTH) break
      this.have = 0
      const h = { type: this.header[0], length: (this.header[3] << 8) | this.header[4] }
      // decodeRecord checks the header (type, version, length) and says how much body is missing.
      try {
        decodeRecord(this.header)
      } catch (e) {
        if (!isTruncated(e)) {
          this.error = e instanceof WireError ? e : new WireError('bad-value', String(e))
          break
        }
      }
      this.bodyLeft = h.length
      out.push(h)
    }
    return out
  }
}

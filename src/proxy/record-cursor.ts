// Where a spliced TLS stream stands between records, without keeping any of it: the stall detector
// needs record boundaries (a server that stops inside a record did not choose to stop) and the
// client's record types (application_data is a request), not the bytes. Holds at most one 5-byte
// header; the body is only counted down.

import { WireError } from '../wire/bytes.js'
import { decodeRecordHeader, RECORD_HEADER_LENGTH, type RecordHeader as TlsRecordHeader } from '../wire/tls/record.js'

/** What the cursor reports of each header: the type and how long the body is. */
export type RecordHeader = Pick<TlsRecordHeader, 'type' | 'length'>

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
      let h: RecordHeader
      try {
        const { type, length } = decodeRecordHeader(this.header)
        h = { type, length }
      } catch (e) {
        this.error = e instanceof WireError ? e : new WireError('bad-value', String(e))
        break
      }
      this.bodyLeft = h.length
      out.push(h)
    }
    return out
  }
}

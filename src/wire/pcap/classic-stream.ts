// Classic pcap read incrementally, for files too large to hold: a driver pushes chunks as they
// come off disk (or a pipe) and gets whole packets back. Sans-IO; memory is bounded by one record,
// and a record longer than `maxRecord` is refused instead of buffered.

import { WireError, concatBytes } from '../bytes.js'
import {
  CLASSIC_FILE_HEADER,
  CLASSIC_RECORD_HEADER,
  classicPacket,
  decodeClassicHeader,
  decodeClassicRecordHeader,
  type ClassicHeader,
} from './classic.js'
import type { CapturedPacket } from './packet.js'

export interface ClassicStreamOptions {
  /** Largest caplen accepted. Default 16 MiB (libpcap's own ceiling is 256 KiB for most links). */
  maxRecord?: number
}

export class ClassicPcapStream {
  header: ClassicHeader | undefined
  private pending: Uint8Array = new Uint8Array(0)
  private count = 0
  private readonly maxRecord: number
  private failed: WireError | undefined

  constructor(opts: ClassicStreamOptions = {}) {
    this.maxRecord = opts.maxRecord ?? 16 * 1024 * 1024
  }

  /** Bytes in file order; returns the packets they complete (data copied, chunks may be reused). */
  push(chunk: Uint8Array): CapturedPacket[] {
    if (this.failed) throw this.failed
    this.pending = this.pending.length === 0 ? chunk.slice() : concatBytes(this.pending, chunk)
    const out: CapturedPacket[] = []
    try {
      let at = 0
      if (!this.header) {
        if (this.pending.length < CLASSIC_FILE_HEADER) {
          if (this.pending.length >= 4) decodeClassicHeaderMagicOnly(this.pending)
          return out
        }
        this.header = decodeClassicHeader(this.pending)
        at = CLASSIC_FILE_HEADER
      }
      while (this.pending.length - at >= CLASSIC_RECORD_HEADER) {
        const rec = decodeClassicRecordHeader(this.header, this.pending, at)
        if (rec.caplen > this.maxRecord) throw new WireError('too-large', `pcap record ${this.count}: caplen ${rec.caplen} > ${this.maxRecord}`)
        const body = at + CLASSIC_RECORD_HEADER
        if (this.pending.length - body < rec.caplen) break
        out.push(classicPacket(this.header, rec, this.pending.slice(body, body + rec.caplen)))
        this.count++
        at = body + rec.caplen
      }
      this.pending = this.pending.subarray(at)
      return out
    } catch (e) {
      if (e instanceof WireError) this.failed = e
      throw e
    }
  }

  /** The input is over: a partial header or record left behind is a `truncated` error. */
  end(): WireError | undefined {
    if (this.failed) return this.failed
    if (!this.header) return WireError.truncated(CLASSIC_FILE_HEADER - this.pending.length, 'pcap file header')
    if (this.pending.length === 0) return undefined
    if (this.pending.length < CLASSIC_RECORD_HEADER) return WireError.truncated(CLASSIC_RECORD_HEADER - this.pending.length, `pcap record ${this.count} header`)
    const rec = decodeClassicRecordHeader(this.header, this.pending, 0)
    return WireError.truncated(rec.caplen - (this.pending.length - CLASSIC_RECORD_HEADER), `pcap record ${this.count} data`)
  }
}

/** Rejects a wrong magic as soon as its four bytes are in, rather than after 24. */
function decodeClassicHeaderMagicOnly(first: Uint8Array): void {
  try {
    decodeClassicHeader(first)
  } catch (e) {
    if (!(e instanceof WireError) || e.code !== 'truncated') throw e
  }
}

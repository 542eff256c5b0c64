// Classic libpcap file writer (pcap-savefile(5); draft-ietf-opsawg-pcap §4–§5): a 24-byte file
// header, then per packet a 16-byte record header and the captured bytes. Written in big-endian
// with magic 0xa1b2c3d4 (microsecond timestamps), which every reader accepts in either byte order.
// Bytes come out incrementally so a tap can stream them to a file as the simulation runs.

import { WireError, Writer, concatBytes } from '../bytes.js'
import { LinkType } from './link-type.js'

export const PCAP_MAGIC_MICROS = 0xa1b2c3d4
export const PCAP_MAGIC_NANOS = 0xa1b23c4d
export const PCAP_VERSION_MAJOR = 2
export const PCAP_VERSION_MINOR = 4
export const DEFAULT_SNAPLEN = 262144

export interface PcapWriterOptions {
  linkType?: number // default LINKTYPE_RAW (101)
  snaplen?: number // default 262144
}

/** A packet to record: timestamp in microseconds since the epoch (virtual time in sim). */
export interface PcapRecord {
  tsMicros: number
  data: Uint8Array
}

export class PcapWriter {
  readonly linkType: number
  readonly snaplen: number

  constructor(opts: PcapWriterOptions = {}) {
    this.linkType = opts.linkType ?? LinkType.RAW
    this.snaplen = opts.snaplen ?? DEFAULT_SNAPLEN
    if (!Number.isInteger(this.snaplen) || this.snaplen <= 0 || this.snaplen > 0xffffffff) {
      throw new WireError('bad-value', `snaplen ${this.snaplen}`)
    }
  }

  /** The 24-byte file header; write it once, first. */
  header(): Uint8Array {
    return new Writer(24)
      .u32(PCAP_MAGIC_MICROS)
      .u16(PCAP_VERSION_MAJOR)
      .u16(PCAP_VERSION_MINOR)
      .u32(0) // thiszone: always 0 (GMT)
      .u32(0) // sigfigs: always 0
      .u32(this.snaplen)
      .u32(this.linkType)
      .finish()
  }

  /**
   * One record. Data longer than snaplen is cut to snaplen (orig_len keeps the real length);
   * `origLength` overrides it for callers replaying an already-truncated capture.
   */
  packet(tsMicros: number, data: Uint8Array, origLength = data.length): Uint8Array {
    if (!Number.isSafeInteger(tsMicros) || tsMicros < 0 || tsMicros >= 2 ** 32 * 1e6) {
      throw new WireError('bad-value', `pcap timestamp ${tsMicros} µs is out of range`)
    }
    if (origLength < data.length) throw new WireError('bad-length', `orig_len ${origLength} < captured ${data.length}`)
    const captured = data.length > this.snaplen ? data.subarray(0, this.snaplen) : data
    return new Writer(16 + captured.length)
      .u32(Math.floor(tsMicros / 1e6))
      .u32(tsMicros % 1e6)
      .u32(captured.length)
      .u32(origLength)
      .bytes(captured)
      .finish()
  }

  /** Header-less concatenation of many records (append to a stream that already has header()). */
  records(list: readonly PcapRecord[]): Uint8Array {
    return concatBytes(...list.map((p) => this.packet(p.tsMicros, p.data)))
  }

  /** A whole file: header followed by every record. */
  file(list: readonly PcapRecord[]): Uint8Array {
    return concatBytes(this.header(), this.records(list))
  }
}

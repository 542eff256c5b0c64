// Classic libpcap savefiles (pcap-savefile(5); draft-ietf-opsawg-pcap §4–§5). Magic 0xa1b2c3d4
// means microsecond timestamps, 0xa1b23c4d nanoseconds; read in the writer's byte order, which the
// magic reveals. A file cut short inside its last record still yields every record before it.

import { WireError, Writer, concatBytes } from '../bytes.js'
import type { CaptureResult, CapturedPacket } from './packet.js'
import { PCAP_MAGIC_MICROS, PCAP_MAGIC_NANOS } from './writer.js'

export type ByteOrder = 'big' | 'little'

export interface ClassicHeader {
  byteOrder: ByteOrder
  nanos: boolean
  versionMajor: number
  versionMinor: number
  thiszone: number
  sigfigs: number
  snaplen: number
  /** The LinkType field's low 16 bits; the upper bits (FCS length) are in `fcs`. */
  linkType: number
  fcs: number
}

export type ClassicPcap = CaptureResult<ClassicHeader>

const FILE_HEADER = 24
const RECORD_HEADER = 16

/** Reads the magic and returns its byte order and precision, or undefined if not classic pcap. */
export function classicMagic(bytes: Uint8Array): { byteOrder: ByteOrder; nanos: boolean } | undefined {
  if (bytes.length < 4) return undefined
  const be = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false)
  const le = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true)
  if (be === PCAP_MAGIC_MICROS) return { byteOrder: 'big', nanos: false }
  if (be === PCAP_MAGIC_NANOS) return { byteOrder: 'big', nanos: true }
  if (le === PCAP_MAGIC_MICROS) return { byteOrder: 'little', nanos: false }
  if (le === PCAP_MAGIC_NANOS) return { byteOrder: 'little', nanos: true }
  return undefined
}

/** The 24-byte file header; throws if it is short, has no known magic, or is not version 2. */
export function decodeClassicHeader(bytes: Uint8Array): ClassicHeader {
  if (bytes.length < 4) throw WireError.truncated(4 - bytes.length, 'pcap file header')
  const magic = classicMagic(bytes)
  if (!magic) throw new WireError('bad-value', 'pcap file header: unknown magic number')
  if (bytes.length < FILE_HEADER) throw WireError.truncated(FILE_HEADER - bytes.length, 'pcap file header')
  const le = magic.byteOrder === 'little'
  const dv = new DataView(bytes.buffer, bytes.byteOffset, FILE_HEADER)
  const versionMajor = dv.getUint16(4, le)
  const versionMinor = dv.getUint16(6, le)
  // Version 2.4 is current; 2.2/2.3 only differ in old record layouts libpcap still reads the same.
  if (versionMajor !== 2) throw new WireError('unsupported', `pcap version ${versionMajor}.${versionMinor}`)
  const linkField = dv.getUint32(20, le)
  return {
    ...magic,
    versionMajor,
    versionMinor,
    thiszone: dv.getInt32(8, le),
    sigfigs: dv.getUint32(12, le),
    snaplen: dv.getUint32(16, le),
    linkType: linkField & 0xffff,
    fcs: linkField >>> 16,
  }
}

export const CLASSIC_FILE_HEADER = FILE_HEADER
export const CLASSIC_RECORD_HEADER = RECORD_HEADER

export interface ClassicRecordHeader {
  sec: number
  frac: number // µs or ns, per the file's magic
  caplen: number
  origLength: number
}

/** A 16-byte record header at `at` (the caller has checked that 16 bytes are there). */
export function decodeClassicRecordHeader(h: ClassicHeader, bytes: Uint8Array, at: number): ClassicRecordHeader {
  const le = h.byteOrder === 'little'
  const dv = new DataView(bytes.buffer, bytes.byteOffset + at, RECORD_HEADER)
  return { sec: dv.getUint32(0, le), frac: dv.getUint32(4, le), caplen: dv.getUint32(8, le), origLength: dv.getUint32(12, le) }
}

export function classicPacket(h: ClassicHeader, r: ClassicRecordHeader, data: Uint8Array): CapturedPacket {
  return { ts: { sec: r.sec, nsec: h.nanos ? r.frac : r.frac * 1000 }, linkType: h.linkType, data, origLength: r.origLength }
}

export function readClassicPcap(bytes: Uint8Array): ClassicPcap {
  const header = decodeClassicHeader(bytes)
  const packets: CapturedPacket[] = []
  let at = FILE_HEADER
  while (at < bytes.length) {
    if (bytes.length - at < RECORD_HEADER) {
      return { header, packets, error: WireError.truncated(RECORD_HEADER - (bytes.length - at), `pcap record ${packets.length} header`) }
    }
    const rec = decodeClassicRecordHeader(header, bytes, at)
    const body = at + RECORD_HEADER
    if (bytes.length - body < rec.caplen) {
      return { header, packets, error: WireError.truncated(rec.caplen - (bytes.length - body), `pcap record ${packets.length} data`) }
    }
    packets.push(classicPacket(header, rec, bytes.subarray(body, body + rec.caplen)))
    at = body + rec.caplen
  }
  return { header, packets }
}

/** A classic file with every header field chosen (the PcapWriter covers the common case). */
export function encodeClassicPcap(h: Omit<ClassicHeader, 'thiszone' | 'sigfigs'> & { thiszone?: number }, packets: readonly CapturedPacket[]): Uint8Array {
  const le = h.byteOrder === 'little'
  const u32 = (w: Writer, v: number): Writer => (le ? w.u32(swap32(v >>> 0)) : w.u32(v >>> 0))
  const u16 = (w: Writer, v: number): Writer => (le ? w.u16(((v & 0xff) << 8) | (v >> 8)) : w.u16(v))
  const head = new Writer(FILE_HEADER)
  u32(head, h.nanos ? PCAP_MAGIC_NANOS : PCAP_MAGIC_MICROS)
  u16(head, h.versionMajor)
  u16(head, h.versionMinor)
  u32(head, h.thiszone ?? 0)
  u32(head, 0)
  u32(head, h.snaplen)
  u32(head, ((h.fcs << 16) >>> 0) + h.linkType)
  const parts = [head.finish()]
  for (const p of packets) {
    const w = new Writer(RECORD_HEADER + p.data.length)
    if (!h.nanos && p.ts.nsec % 1000 !== 0) throw new WireError('bad-value', 'a microsecond file cannot hold this nanosecond timestamp')
    u32(w, p.ts.sec)
    u32(w, h.nanos ? p.ts.nsec : p.ts.nsec / 1000)
    u32(w, p.data.length)
    u32(w, p.origLength)
    parts.push(w.bytes(p.data).finish())
  }
  return concatBytes(...parts)
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0
}


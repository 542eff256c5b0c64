// TCP header (RFC 9293 §3.1) and its checksum over the IPv4 (RFC 9293 §3.1) or IPv6 (RFC 8200
// §8.1) pseudo-header. Options are kept raw: this lab reads and synthesizes segments, it does not
// negotiate.

import { Reader, WireError, Writer } from '../bytes.js'
import { finishChecksum, sumWords } from './checksum.js'
import { IpProtocol } from './protocol.js'

/** Control bits, named as in RFC 9293 (CWR and ECE from RFC 3168). */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const
export type TcpFlagName = keyof typeof TcpFlag

export interface TcpSegment {
  srcPort: number
  dstPort: number
  seq: number
  ack: number
  dataOffset: number // header length in 32-bit words, 5..15
  reserved: number // the 4 bits between Data Offset and CWR (RFC 9293: Rsrvd)
  flags: number // CWR..FIN, see TcpFlag
  window: number
  checksum: number
  urgentPointer: number
  options: Uint8Array
  payload: Uint8Array
}

export function hasFlag(seg: { flags: number }, name: TcpFlagName): boolean {
  return (seg.flags & TcpFlag[name]) !== 0
}

/** e.g. "SYN|ACK", in the order Wireshark prints them (high bit first). */
export function flagNames(flags: number): string {
  const names = (Object.keys(TcpFlag) as TcpFlagName[]).filter((n) => flags & TcpFlag[n]).reverse()
  return names.join('|')
}

const MIN_HEADER = 20

export function decodeTcp(buf: Uint8Array): TcpSegment {
  const r = new Reader(buf, 'TCP header')
  r.need(MIN_HEADER)
  const srcPort = r.u16()
  const dstPort = r.u16()
  const seq = r.u32()
  const ack = r.u32()
  const offRes = r.u8()
  const dataOffset = offRes >> 4
  if (dataOffset < 5) throw new WireError('bad-length', `TCP header: Data Offset ${dataOffset} < 5`)
  const flags = r.u8()
  const window = r.u16()
  const checksum = r.u16()
  const urgentPointer = r.u16()
  const options = r.bytes(dataOffset * 4 - MIN_HEADER)
  return { srcPort, dstPort, seq, ack, dataOffset, reserved: offRes & 0x0f, flags, window, checksum, urgentPointer, options, payload: r.rest() }
}

export interface TcpFields {
  srcPort: number
  dstPort: number
  seq: number
  ack: number
  reserved?: number
  flags: number
  window?: number
  urgentPointer?: number
  options?: Uint8Array
  payload?: Uint8Array
}

/** Addresses of the enclosing IP packet; their length (4 or 16) picks the pseudo-header. */
export interface PseudoHeader {
  src: Uint8Array
  dst: Uint8Array
}

/** Builds a segment; Data Offset and the checksum over the pseudo-header are computed. */
export function encodeTcp(f: TcpFields, ip: PseudoHeader): Uint8Array {
  const options = f.options ?? new Uint8Array(0)
  if (options.length % 4 !== 0 || options.length > 40) {
    throw new WireError('bad-length', `TCP options of ${options.length} bytes (need a multiple of 4, at most 40)`)
  }
  const payload = f.payload ?? new Uint8Array(0)
  const w = new Writer(MIN_HEADER + options.length + payload.length)
  w.u16(f.srcPort)
    .u16(f.dstPort)
    .u32(f.seq)
    .u32(f.ack)
    .u8(((5 + options.length / 4) << 4) | checkBits(f.reserved ?? 0, 0x0f, 'reserved'))
    .u8(checkBits(f.flags, 0xff, 'flags'))
    .u16(f.window ?? 65535)
    .u16(0)
    .u16(f.urgentPointer ?? 0)
    .bytes(options)
    .bytes(payload)
  const out = w.finish()
  const sum = tcpChecksum(ip, out)
  out[16] = sum >> 8
  out[17] = sum & 0xff
  return out
}

/**
 * The checksum `segment` should carry (computed with its own checksum field treated as zero),
 * so `tcpChecksum(ip, seg) === decodeTcp(seg).checksum` means the segment is intact.
 */
export function tcpChecksum(ip: PseudoHeader, segment: Uint8Array): number {
  if (segment.length < MIN_HEADER) throw WireError.truncated(MIN_HEADER - segment.length, 'TCP header')
  let sum = sumWords(ip.src)
  sum = sumWords(ip.dst, sum)
  if (ip.src.length === 4 && ip.dst.length === 4) {
    if (segment.length > 0xffff) throw new WireError('too-large', 'TCP segment longer than an IPv4 datagram allows')
    sum += IpProtocol.TCP + segment.length
  } else if (ip.src.length === 16 && ip.dst.length === 16) {
    sum += Math.floor(segment.length / 0x10000) + (segment.length & 0xffff) + IpProtocol.TCP
  } else throw new WireError('bad-length', 'pseudo-header addresses must both be 4 or both 16 bytes')
  sum = sumWords(segment.subarray(0, 16), sum)
  sum = sumWords(segment.subarray(18), sum)
  return finishChecksum(sum)
}

function checkBits(v: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new WireError('bad-value', `TCP ${what} ${v} out of range`)
  return v
}

// IPv4 header (RFC 791 §3.1). Decoding takes a captured packet, which may be shorter than its
// Total Length (snaplen) or longer (link-layer padding); fragments are flagged, never reassembled.

import { Reader, WireError, Writer } from '../bytes.js'
import { internetChecksum } from './checksum.js'

export interface Ipv4Header {
  version: 4
  ihl: number // header length in 32-bit words, 5..15
  dscp: number // 6 bits
  ecn: number // 2 bits
  totalLength: number
  identification: number
  /** Flags: bit 0 reserved ("evil bit"), DF, MF. */
  reservedFlag: boolean
  dontFragment: boolean
  moreFragments: boolean
  fragmentOffset: number // in 8-byte units, 13 bits
  ttl: number
  protocol: number
  headerChecksum: number
  src: Uint8Array // 4 bytes
  dst: Uint8Array // 4 bytes
  options: Uint8Array // raw, (ihl - 5) * 4 bytes
}

export interface Ipv4Packet {
  header: Ipv4Header
  /** Payload bytes present in the capture (at most totalLength - ihl*4). */
  payload: Uint8Array
  /** The capture holds fewer bytes than Total Length says. */
  truncated: boolean
  /** MF set or a non-zero offset: this is one piece of a fragmented datagram. */
  fragment: boolean
  checksumValid: boolean
}

const MIN_HEADER = 20

export function decodeIpv4(buf: Uint8Array): Ipv4Packet {
  const r = new Reader(buf, 'IPv4 header')
  const vihl = r.u8()
  const version = vihl >> 4
  if (version !== 4) throw new WireError('bad-value', `IPv4 header: version ${version}`)
  const ihl = vihl & 0x0f
  if (ihl < 5) throw new WireError('bad-length', `IPv4 header: IHL ${ihl} < 5`)
  r.need(ihl * 4 - 1)
  const tos = r.u8()
  const totalLength = r.u16()
  if (totalLength < ihl * 4) throw new WireError('bad-length', `IPv4 header: Total Length ${totalLength} < header ${ihl * 4}`)
  const identification = r.u16()
  const flagsFrag = r.u16()
  const ttl = r.u8()
  const protocol = r.u8()
  const headerChecksum = r.u16()
  const src = r.bytes(4)
  const dst = r.bytes(4)
  const options = r.bytes(ihl * 4 - MIN_HEADER)
  const header: Ipv4Header = {
    version: 4,
    ihl,
    dscp: tos >> 2,
    ecn: tos & 3,
    totalLength,
    identification,
    reservedFlag: (flagsFrag & 0x8000) !== 0,
    dontFragment: (flagsFrag & 0x4000) !== 0,
    moreFragments: (flagsFrag & 0x2000) !== 0,
    fragmentOffset: flagsFrag & 0x1fff,
    ttl,
    protocol,
    headerChecksum,
    src,
    dst,
    options,
  }
  const available = Math.min(buf.length, totalLength)
  return {
    header,
    payload: buf.subarray(ihl * 4, available),
    truncated: buf.length < totalLength,
    fragment: header.moreFragments || header.fragmentOffset !== 0,
    checksumValid: internetChecksum(buf.subarray(0, ihl * 4)) === 0,
  }
}

export interface Ipv4Fields {
  dscp?: number
  ecn?: number
  identification?: number
  reservedFlag?: boolean
  dontFragment?: boolean
  moreFragments?: boolean
  fragmentOffset?: number
  ttl?: number
  protocol: number
  src: Uint8Array
  dst: Uint8Array
  options?: Uint8Array
}

/** Builds header + payload; IHL, Total Length and the header checksum are computed. */
export function encodeIpv4(f: Ipv4Fields, payload: Uint8Array): Uint8Array {
  const options = f.options ?? new Uint8Array(0)
  if (options.length % 4 !== 0 || options.length > 40) {
    throw new WireError('bad-length', `IPv4 options of ${options.length} bytes (need a multiple of 4, at most 40)`)
  }
  if (f.src.length !== 4 || f.dst.length !== 4) throw new WireError('bad-length', 'IPv4 address is not 4 bytes')
  const ihl = 5 + options.length / 4
  const totalLength = ihl * 4 + payload.length
  if (totalLength > 0xffff) throw new WireError('too-large', `IPv4 datagram of ${totalLength} bytes`)
  const fragmentOffset = f.fragmentOffset ?? 0
  if (!Number.isInteger(fragmentOffset) || fragmentOffset < 0 || fragmentOffset > 0x1fff) {
    throw new WireError('bad-value', `IPv4 fragment offset ${fragmentOffset}`)
  }
  const dscp = f.dscp ?? 0
  const ecn = f.ecn ?? 0
  if (dscp > 63 || ecn > 3) throw new WireError('bad-value', 'IPv4 DSCP/ECN out of range')
  const w = new Writer(totalLength)
  w.u8(0x40 | ihl)
    .u8((dscp << 2) | ecn)
    .u16(totalLength)
    .u16(f.identification ?? 0)
    .u16((f.reservedFlag ? 0x8000 : 0) | (f.dontFragment ? 0x4000 : 0) | (f.moreFragments ? 0x2000 : 0) | fragmentOffset)
    .u8(f.ttl ?? 64)
    .u8(f.protocol)
    .u16(0)
    .bytes(f.src)
    .bytes(f.dst)
    .bytes(options)
    .bytes(payload)
  const out = w.finish()
  const sum = internetChecksum(out.subarray(0, ihl * 4))
  out[10] = sum >> 8
  out[11] = sum & 0xff
  return out
}

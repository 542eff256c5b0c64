// IPv6 header (RFC 8200 §3) and the extension-header chain (§4). The walk follows Hop-by-Hop (0),
// Routing (43), Fragment (44) and Destination Options (60) and stops at anything else (TCP 6,
// UDP 17, No Next Header 59 …), which becomes `protocol`. Fragments are flagged, not reassembled.

import { Reader, WireError, Writer } from '../bytes.js'
import { IpProtocol } from './protocol.js'

export interface Ipv6Header {
  version: 6
  trafficClass: number // 8 bits
  flowLabel: number // 20 bits
  payloadLength: number
  nextHeader: number
  hopLimit: number
  src: Uint8Array // 16 bytes
  dst: Uint8Array // 16 bytes
}

/** One extension header as on the wire, minus its Next Header byte (so Hdr Ext Len stays in `data`). */
export interface Ipv6Extension {
  type: number
  data: Uint8Array
}

export interface Ipv6FragmentInfo {
  offset: number // in 8-byte units
  more: boolean
  identification: number
}

export interface Ipv6Packet {
  header: Ipv6Header
  extensions: Ipv6Extension[]
  /** The upper-layer protocol after the extension chain (59 = No Next Header). */
  protocol: number
  payload: Uint8Array
  truncated: boolean
  fragment?: Ipv6FragmentInfo
}

const FIXED = 40
const CHAINED = new Set<number>([IpProtocol.HOPOPT, IpProtocol.IPv6_Route, IpProtocol.IPv6_Frag, IpProtocol.IPv6_Opts])

export function decodeIpv6(buf: Uint8Array): Ipv6Packet {
  const r = new Reader(buf, 'IPv6 header')
  const first = r.u32()
  const version = first >>> 28
  if (version !== 6) throw new WireError('bad-value', `IPv6 header: version ${version}`)
  const payloadLength = r.u16()
  const nextHeader = r.u8()
  const hopLimit = r.u8()
  const src = r.bytes(16)
  const dst = r.bytes(16)
  const header: Ipv6Header = {
    version: 6,
    trafficClass: (first >>> 20) & 0xff,
    flowLabel: first & 0xfffff,
    payloadLength,
    nextHeader,
    hopLimit,
    src,
    dst,
  }
  // The chain is walked over the bytes Payload Length covers, as far as they were captured.
  const end = Math.min(buf.length, FIXED + payloadLength)
  const truncated = buf.length < FIXED + payloadLength
  const body = new Reader(buf.subarray(FIXED, end), 'IPv6 extension header')
  const extensions: Ipv6Extension[] = []
  let protocol = nextHeader
  let fragment: Ipv6FragmentInfo | undefined
  while (CHAINED.has(protocol)) {
    if (truncated) body.need(2)
    else if (body.remaining < 2) throw new WireError('bad-length', 'IPv6 extension header runs past Payload Length')
    const next = body.peekU8(0)
    const size = protocol === IpProtocol.IPv6_Frag ? 8 : (body.peekU8(1) + 1) * 8
    if (body.remaining < size) {
      if (truncated) body.need(size)
      throw new WireError('bad-length', 'IPv6 extension header runs past Payload Length')
    }
    const ext = body.bytes(size)
    extensions.push({ type: protocol, data: ext.subarray(1) })
    if (protocol === IpProtocol.IPv6_Frag) {
      const offFlags = (ext[2] << 8) | ext[3]
      fragment = {
        offset: offFlags >> 3,
        more: (offFlags & 1) !== 0,
        identification: ((ext[4] << 24) >>> 0) + ((ext[5] << 16) | (ext[6] << 8) | ext[7]),
      }
      protocol = next
      // Only the first fragment carries the next header; later ones hold an arbitrary slice.
      if (fragment.offset !== 0) break
      continue
    }
    protocol = next
  }
  const out: Ipv6Packet = { header, extensions, protocol, payload: body.rest(), truncated }
  if (fragment) out.fragment = fragment
  return out
}

export interface Ipv6Fields {
  trafficClass?: number
  flowLabel?: number
  hopLimit?: number
  src: Uint8Array
  dst: Uint8Array
  extensions?: Ipv6Extension[]
  /** Upper-layer protocol (the Next Header of the last extension, or of the fixed header). */
  protocol: number
}

/** Builds the fixed header, the extension chain (Next Header fields linked) and the payload. */
export function encodeIpv6(f: Ipv6Fields, payload: Uint8Array): Uint8Array {
  if (f.src.length !== 16 || f.dst.length !== 16) throw new WireError('bad-length', 'IPv6 address is not 16 bytes')
  const exts = f.extensions ?? []
  let extLen = 0
  for (const e of exts) {
    if (!CHAINED.has(e.type)) throw new WireError('bad-value', `IPv6 extension type ${e.type} is not chained by this codec`)
    const want = e.type === IpProtocol.IPv6_Frag ? 7 : e.data.length >= 1 ? (e.data[0] + 1) * 8 - 1 : -1
    if (e.data.length !== want) throw new WireError('bad-length', `IPv6 extension ${e.type}: ${e.data.length + 1} bytes disagree with its length`)
    extLen += e.data.length + 1
  }
  const payloadLength = extLen + payload.length
  if (payloadLength > 0xffff) throw new WireError('too-large', `IPv6 payload of ${payloadLength} bytes (jumbograms unsupported)`)
  const tc = f.trafficClass ?? 0
  const fl = f.flowLabel ?? 0
  if (tc > 0xff || fl > 0xfffff || tc < 0 || fl < 0) throw new WireError('bad-value', 'IPv6 traffic class / flow label out of range')
  const w = new Writer(FIXED + payloadLength)
  w.u32(((6 << 28) >>> 0) + (tc << 20) + fl)
    .u16(payloadLength)
    .u8(exts.length > 0 ? exts[0].type : f.protocol)
    .u8(f.hopLimit ?? 64)
    .bytes(f.src)
    .bytes(f.dst)
  exts.forEach((e, i) => w.u8(i + 1 < exts.length ? exts[i + 1].type : f.protocol).bytes(e.data))
  return w.bytes(payload).finish()
}

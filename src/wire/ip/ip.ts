// Either IP version behind one shape, for consumers (TCP reassembly, censors) that only need the
// addresses, the upper-layer protocol and its bytes.

import { WireError } from '../bytes.js'
import { decodeIpv4 } from './ipv4.js'
import { decodeIpv6 } from './ipv6.js'

export interface IpPacket {
  version: 4 | 6
  src: Uint8Array
  dst: Uint8Array
  protocol: number
  payload: Uint8Array
  /** The capture holds less than the IP length fields say. */
  truncated: boolean
  /** Length of the upper-layer payload according to the IP header (≥ payload.length). */
  wireLength: number
  /** Part of a fragmented datagram (not reassembled; the payload is only one piece). */
  fragment: boolean
}

export function decodeIp(data: Uint8Array): IpPacket {
  if (data.length < 1) throw WireError.truncated(1, 'IP header')
  const version = data[0] >> 4
  if (version === 4) {
    const p = decodeIpv4(data)
    return { version: 4, src: p.header.src, dst: p.header.dst, protocol: p.header.protocol, payload: p.payload, truncated: p.truncated, wireLength: p.header.totalLength - p.header.ihl * 4, fragment: p.fragment }
  }
  if (version === 6) {
    const p = decodeIpv6(data)
    return {
      version: 6,
      src: p.header.src,
      dst: p.header.dst,
      protocol: p.protocol,
      payload: p.payload,
      truncated: p.truncated,
      // Payload Length covers the extension headers too; what follows them is the payload.
      wireLength: p.header.payloadLength - (p.payload.byteOffset - data.byteOffset - 40),
      fragment: p.fragment !== undefined && (p.fragment.more || p.fragment.offset !== 0),
    }
  }
  throw new WireError('bad-value', `IP version ${version}`)
}

// Link-layer headers down to the network-layer packet, per LINKTYPE (tcpdump.org/linktypes.html):
// Ethernet with 802.1Q/802.1ad tags, Linux cooked SLL and SLL2, raw IP, and BSD loopback.

import { Reader, WireError } from '../bytes.js'
import { LinkType } from './link-type.js'

export const EtherType = { IPv4: 0x0800, ARP: 0x0806, VLAN: 0x8100, IPv6: 0x86dd, QinQ: 0x88a8, QinQ_old: 0x9100 } as const

export type NetworkPacket =
  | { kind: 'ipv4' | 'ipv6'; data: Uint8Array }
  /** Not IP (ARP, LLDP …): `etherType` when the link layer names one. */
  | { kind: 'other'; etherType?: number }

export function decodeLink(linkType: number, frame: Uint8Array): NetworkPacket {
  switch (linkType) {
    case LinkType.ETHERNET:
      return ethernet(frame)
    case LinkType.LINUX_SLL: {
      // packet type, ARPHRD type, address length, 8 address bytes, protocol (an EtherType).
      const r = new Reader(frame, 'Linux SLL header')
      r.skip(14)
      return byEtherType(r.u16(), r.rest())
    }
    case LinkType.LINUX_SLL2: {
      // protocol type, reserved, interface index, ARPHRD type, packet type, address length, 8 bytes.
      const r = new Reader(frame, 'Linux SLL2 header')
      const protocol = r.u16()
      r.skip(18)
      return byEtherType(protocol, r.rest())
    }
    case LinkType.RAW:
    case LinkType.RAW_12:
    case LinkType.RAW_14:
      return rawIp(frame)
    case LinkType.NULL:
      return bsdLoopback(frame)
    default:
      throw new WireError('unsupported', `link type ${linkType}`)
  }
}

function ethernet(frame: Uint8Array): NetworkPacket {
  const r = new Reader(frame, 'Ethernet header')
  r.skip(12) // destination, source
  let type = r.u16()
  // 802.1Q (0x8100) and 802.1ad (0x88a8, and the pre-standard 0x9100) tags, stacked any depth:
  // a 2-byte TCI, then the next EtherType. Each costs 4 bytes, so the loop is bounded by the frame.
  while (type === EtherType.VLAN || type === EtherType.QinQ || type === EtherType.QinQ_old) {
    r.skip(2)
    type = r.u16()
  }
  return byEtherType(type, r.rest())
}

function byEtherType(type: number, rest: Uint8Array): NetworkPacket {
  if (type === EtherType.IPv4) return { kind: 'ipv4', data: rest }
  if (type === EtherType.IPv6) return { kind: 'ipv6', data: rest }
  return { kind: 'other', etherType: type }
}

function rawIp(frame: Uint8Array): NetworkPacket {
  if (frame.length < 1) throw WireError.truncated(1, 'raw IP packet')
  const version = frame[0] >> 4
  if (version === 4) return { kind: 'ipv4', data: frame }
  if (version === 6) return { kind: 'ipv6', data: frame }
  return { kind: 'other' }
}

/** AF_ values for IPv4 and IPv6 across the BSDs, macOS and Linux (linktypes.html, LINKTYPE_NULL). */
const AF_INET = 2
const AF_INET6 = new Set([10, 24, 28, 30])

function bsdLoopback(frame: Uint8Array): NetworkPacket {
  const r = new Reader(frame, 'BSD loopback header')
  r.need(4)
  // The family is in the capturing host's byte order, which the file does not record; a family
  // is a small number, so whichever reading fits in 16 bits is the right one.
  const dv = new DataView(frame.buffer, frame.byteOffset, 4)
  const le = dv.getUint32(0, true)
  const family = le <= 0xffff ? le : dv.getUint32(0, false)
  r.skip(4)
  if (family === AF_INET) return { kind: 'ipv4', data: r.rest() }
  if (AF_INET6.has(family)) return { kind: 'ipv6', data: r.rest() }
  return { kind: 'other' }
}

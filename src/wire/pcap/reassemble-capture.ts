// A whole capture to TCP flows: link layer → IP → TCP → TcpReassembler. Packets that are not
// TCP-over-IP, are IP fragments, or fail to decode are skipped and counted, never fatal.

import { WireError } from '../bytes.js'
import { decodeIp } from '../ip/ip.js'
import { IpProtocol } from '../ip/protocol.js'
import { decodeTcp } from '../ip/tcp.js'
import type { Capture } from './capture.js'
import { decodeLink } from './link.js'
import { TcpReassembler, type ReassemblyOptions, type TcpFlow } from './tcp-reassembly.js'

export interface SkippedPackets {
  notIp: number // ARP and other non-IP link payloads
  notTcp: number // UDP, ICMP …
  fragments: number // IP fragments (not reassembled)
  unsupportedLink: number
  malformed: number // a header failed to decode (WireError)
}

export interface ReassembledCapture {
  flows: TcpFlow[]
  tcpPackets: number
  skipped: SkippedPackets
}

export function reassembleCapture(capture: Pick<Capture, 'packets'>, opts: ReassemblyOptions = {}): ReassembledCapture {
  const r = new TcpReassembler(opts)
  const skipped: SkippedPackets = { notIp: 0, notTcp: 0, fragments: 0, unsupportedLink: 0, malformed: 0 }
  let tcpPackets = 0
  for (const p of capture.packets) {
    try {
      const net = decodeLink(p.linkType, p.data)
      if (net.kind === 'other') {
        skipped.notIp++
        continue
      }
      const ip = decodeIp(net.data)
      if (ip.fragment) {
        skipped.fragments++
        continue
      }
      if (ip.protocol !== IpProtocol.TCP) {
        skipped.notTcp++
        continue
      }
      const seg = decodeTcp(ip.payload)
      tcpPackets++
      // A snaplen-cut packet: the IP length fields still tell how long the payload was.
      const onWire = ip.truncated ? ip.wireLength - seg.dataOffset * 4 : seg.payload.length
      r.feed(p.ts, ip.src, ip.dst, seg, onWire)
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      if (e.code === 'unsupported') skipped.unsupportedLink++
      else skipped.malformed++
    }
  }
  return { flows: r.finish(), tcpPackets, skipped }
}

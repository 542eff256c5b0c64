// Synthesizes the packets of one TCP connection (RFC 9293 §3.5 handshake, §3.6 close, §3.10.7.4
// sequence/acknowledgment rules) so a simulated link can be written as a pcap that Wireshark
// dissects like a real capture: valid IP and TCP checksums, consistent seq/ack, pure ACKs for
// received data. Pure: the caller passes timestamps; nothing here reads a clock.

import { WireError } from '../bytes.js'
import { parseIp } from '../ip/address.js'
import { encodeIpv4 } from '../ip/ipv4.js'
import { encodeIpv6 } from '../ip/ipv6.js'
import { IpProtocol } from '../ip/protocol.js'
import { TcpFlag, encodeTcp } from '../ip/tcp.js'
import type { PcapRecord } from './writer.js'

export type Direction = 'c2s' | 's2c'

export interface Endpoint {
  addr: string // IPv4 dotted quad or IPv6 text; both ends must be the same family
  port: number
}

export interface TcpFlowSynthOptions {
  client: Endpoint
  server: Endpoint
  clientIsn: number
  serverIsn: number
  /** Largest payload per segment; data() splits longer writes. Default 1460. */
  mss?: number
  window?: number // default 65535
  ttl?: number // default 64
}

/** A segment to build by hand (retransmissions, overlaps, out-of-window tests). */
export interface RawSegment {
  seq: number
  ack?: number // default: what this side has received so far
  flags: number
  payload?: Uint8Array
}

interface Side {
  addr: Uint8Array
  port: number
  nextSeq: number // next sequence number this side will send
  ipId: number
}

const u32 = (n: number): number => n >>> 0

export class TcpFlowSynth {
  private readonly sides: Record<'client' | 'server', Side>
  private readonly mss: number
  private readonly window: number
  private readonly ttl: number

  constructor(opts: TcpFlowSynthOptions) {
    const c = parseIp(opts.client.addr)
    const s = parseIp(opts.server.addr)
    if (c.length !== s.length) throw new WireError('bad-value', 'client and server addresses are different IP versions')
    this.sides = {
      client: { addr: c, port: opts.client.port, nextSeq: u32(opts.clientIsn), ipId: 1 },
      server: { addr: s, port: opts.server.port, nextSeq: u32(opts.serverIsn), ipId: 1 },
    }
    this.mss = opts.mss ?? 1460
    if (!Number.isInteger(this.mss) || this.mss < 1) throw new WireError('bad-value', `mss ${this.mss}`)
    this.window = opts.window ?? 65535
    this.ttl = opts.ttl ?? 64
  }

  /** The next sequence number `dir`'s sender will use. */
  nextSeq(dir: Direction): number {
    return this.from(dir).nextSeq
  }

  /** SYN, SYN|ACK, ACK. Each side's ISN consumes one sequence number. */
  open(ts: number): PcapRecord[] {
    const c = this.sides.client
    const s = this.sides.server
    const syn = this.segment('c2s', { seq: c.nextSeq, ack: 0, flags: TcpFlag.SYN }, ts)
    c.nextSeq = u32(c.nextSeq + 1)
    const synAck = this.segment('s2c', { seq: s.nextSeq, flags: TcpFlag.SYN | TcpFlag.ACK }, ts + 1)
    s.nextSeq = u32(s.nextSeq + 1)
    const ack = this.segment('c2s', { seq: c.nextSeq, flags: TcpFlag.ACK }, ts + 2)
    return [syn, synAck, ack]
  }

  /** `bytes` from `dir`'s sender in PSH|ACK segments of at most mss, then the peer's ACK. */
  data(dir: Direction, bytes: Uint8Array, ts: number, opts: { ack?: boolean } = {}): PcapRecord[] {
    const out: PcapRecord[] = []
    const me = this.from(dir)
    for (let at = 0; at < bytes.length; at += this.mss) {
      const payload = bytes.subarray(at, at + this.mss)
      out.push(this.segment(dir, { seq: me.nextSeq, flags: TcpFlag.PSH | TcpFlag.ACK, payload }, ts + out.length))
      me.nextSeq = u32(me.nextSeq + payload.length)
    }
    if (bytes.length > 0 && opts.ack !== false) out.push(this.ackFrom(reverse(dir), ts + out.length))
    return out
  }

  /** FIN|ACK from `dir`'s sender (a half-close), then the peer's ACK of it. */
  fin(dir: Direction, ts: number): PcapRecord[] {
    const me = this.from(dir)
    const fin = this.segment(dir, { seq: me.nextSeq, flags: TcpFlag.FIN | TcpFlag.ACK }, ts)
    me.nextSeq = u32(me.nextSeq + 1)
    return [fin, this.ackFrom(reverse(dir), ts + 1)]
  }

  /** RST|ACK from `dir`'s sender. */
  rst(dir: Direction, ts: number): PcapRecord[] {
    return [this.segment(dir, { seq: this.from(dir).nextSeq, flags: TcpFlag.RST | TcpFlag.ACK }, ts)]
  }

  /** A pure ACK from `dir`'s sender acknowledging everything the peer has sent. */
  ackFrom(dir: Direction, ts: number): PcapRecord {
    return this.segment(dir, { seq: this.from(dir).nextSeq, flags: TcpFlag.ACK }, ts)
  }

  /** Builds one packet exactly as described; flow state is left untouched (except the IP ID). */
  segment(dir: Direction, seg: RawSegment, ts: number): PcapRecord {
    const me = this.from(dir)
    const peer = this.from(reverse(dir))
    const tcp = encodeTcp(
      {
        srcPort: me.port,
        dstPort: peer.port,
        seq: u32(seg.seq),
        ack: u32(seg.ack ?? peer.nextSeq),
        flags: seg.flags,
        window: this.window,
        payload: seg.payload,
      },
      { src: me.addr, dst: peer.addr },
    )
    const data =
      me.addr.length === 4
        ? encodeIpv4({ protocol: IpProtocol.TCP, src: me.addr, dst: peer.addr, ttl: this.ttl, identification: me.ipId, dontFragment: true }, tcp)
        : encodeIpv6({ protocol: IpProtocol.TCP, src: me.addr, dst: peer.addr, hopLimit: this.ttl }, tcp)
    me.ipId = (me.ipId + 1) & 0xffff
    return { tsMicros: ts, data }
  }

  private from(dir: Direction): Side {
    return dir === 'c2s' ? this.sides.client : this.sides.server
  }
}

function reverse(dir: Direction): Direction {
  return dir === 'c2s' ? 's2c' : 'c2s'
}

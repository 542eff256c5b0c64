// TCP stream reassembly for captures (RFC 9293 §3.4 sequence space), sans-IO: segments go in in
// capture order, each direction's bytes come out in sequence order. Flows are numbered in order of
// first appearance of their 4-tuple, as tshark numbers tcp.stream, so flow N = `follow,tcp,raw,N`.
//
// Per direction: offsets are relative to the ISN (from the SYN, else the first segment seen);
// sequence numbers are compared modulo 2^32 against the next expected offset, so wraparound and
// streams beyond 4 GiB work. Out-of-order segments wait in a bounded buffer. Where copies of a
// byte disagree, the first copy to reach the in-order edge wins: a segment at or before the edge
// adds only its bytes beyond it, and waiting segments are taken in arrival order whenever they
// touch the edge (the rule tshark's follow,tcp applies; checked against it in the tests). When the buffer is full, or at finish(), the
// hole before the earliest waiting segment is given up on and recorded as a gap.

import { Writer } from '../bytes.js'
import { formatIp } from '../ip/address.js'
import { TcpFlag, type TcpSegment } from '../ip/tcp.js'
import type { Timestamp } from './packet.js'

export interface FlowEndpoint {
  addr: string
  port: number
}

export interface StreamChunk {
  ts: Timestamp // capture time of the segment these bytes came from
  offset: number // index into `bytes`
  length: number
}

export interface StreamGap {
  at: number // index into `bytes` where the missing bytes belong
  length: number // how many sequence numbers were never seen
}

export interface DirectionStream {
  bytes: Uint8Array
  chunks: StreamChunk[]
  fin: boolean
  rst: boolean
  gaps: StreamGap[]
}

export interface TcpFlow {
  id: number
  client: FlowEndpoint
  server: FlowEndpoint
  toServer: DirectionStream
  toClient: DirectionStream
}

export type FlowDirection = 'toServer' | 'toClient'

/** Bytes delivered in order by one feed() call. */
export interface StreamData {
  flow: number
  dir: FlowDirection
  data: Uint8Array
}

export interface ReassemblyOptions {
  /** Out-of-order bytes one direction may hold before giving up on the hole. Default 4 MiB. */
  maxBufferedBytes?: number
  /** Out-of-order segments one direction may hold. Default 4096. */
  maxBufferedSegments?: number
}

interface Pending {
  offset: number
  data: Uint8Array // the captured payload
  length: number // the payload's length on the wire (> data.length when the capture cut it)
  ts: Timestamp
}

class Direction {
  base: number | undefined // sequence number of stream offset 0
  next = 0 // stream offset of the next byte to deliver
  pending: Pending[] = [] // in arrival order
  pendingBytes = 0
  readonly out = new Writer(1024)
  readonly chunks: StreamChunk[] = []
  readonly gaps: StreamGap[] = []
  fin = false
  rst = false

  /** Stream offset of `seq`, taken as the one nearest the next expected offset (mod 2^32). */
  offsetOf(seq: number): number {
    const rel = (seq - (this.base as number)) >>> 0
    return this.next + ((rel - (this.next % 2 ** 32)) | 0)
  }

  add(p: Pending, delivered: Uint8Array[]): void {
    if (p.offset <= this.next) this.deliver(p, delivered)
    else {
      this.pending.push(p)
      this.pendingBytes += p.data.length
    }
    this.drain(delivered)
  }

  /** Delivers the part of `p` beyond what was already delivered (earlier copies win). */
  private deliver(p: Pending, delivered: Uint8Array[]): void {
    const capturedEnd = p.offset + p.data.length
    if (capturedEnd > this.next) {
      const piece = p.data.subarray(this.next - p.offset)
      this.chunks.push({ ts: p.ts, offset: this.out.length, length: piece.length })
      this.out.bytes(piece)
      delivered.push(piece)
      this.next = capturedEnd
    }
    // Bytes the segment carried but the capture did not keep (snaplen) are a gap right away.
    const end = p.offset + p.length
    if (end > this.next) {
      this.gaps.push({ at: this.out.length, length: end - this.next })
      this.next = end
    }
  }

  /** Moves waiting segments that now touch the delivered edge, in arrival order, as tshark does. */
  drain(delivered: Uint8Array[]): void {
    for (;;) {
      const i = this.pending.findIndex((p) => p.offset <= this.next)
      if (i < 0) return
      const [p] = this.pending.splice(i, 1)
      this.pendingBytes -= p.data.length
      this.deliver(p, delivered)
    }
  }

  /** Gives up on the hole before the earliest waiting byte. */
  skipHole(delivered: Uint8Array[]): void {
    let start = Infinity
    for (const p of this.pending) start = Math.min(start, p.offset)
    if (start === Infinity) return
    if (start > this.next) {
      this.gaps.push({ at: this.out.length, length: start - this.next })
      this.next = start
    }
    this.drain(delivered)
  }

  result(): DirectionStream {
    return { bytes: this.out.finish(), chunks: this.chunks, fin: this.fin, rst: this.rst, gaps: this.gaps }
  }
}

interface FlowState {
  id: number
  client: FlowEndpoint
  server: FlowEndpoint
  clientKey: string
  toServer: Direction
  toClient: Direction
}

export class TcpReassembler {
  private readonly flowsByKey = new Map<string, FlowState>()
  private readonly all: FlowState[] = []
  private readonly maxBytes: number
  private readonly maxSegments: number

  constructor(opts: ReassemblyOptions = {}) {
    this.maxBytes = opts.maxBufferedBytes ?? 4 * 1024 * 1024
    this.maxSegments = opts.maxBufferedSegments ?? 4096
  }

  /**
   * One TCP segment, in capture order; returns the bytes it let through, in stream order.
   * `payloadLength` is the payload's length on the wire when the capture kept less of it.
   */
  feed(ts: Timestamp, src: Uint8Array, dst: Uint8Array, seg: TcpSegment, payloadLength = seg.payload.length): StreamData[] {
    const from: FlowEndpoint = { addr: formatIp(src), port: seg.srcPort }
    const to: FlowEndpoint = { addr: formatIp(dst), port: seg.dstPort }
    const fromKey = `${from.addr}|${from.port}`
    const toKey = `${to.addr}|${to.port}`
    const key = fromKey < toKey ? `${fromKey}|${toKey}` : `${toKey}|${fromKey}`
    const syn = (seg.flags & TcpFlag.SYN) !== 0
    const synOnly = syn && (seg.flags & TcpFlag.ACK) === 0

    let flow = this.flowsByKey.get(key)
    if (flow && synOnly && this.isNewConnection(flow, fromKey, seg.seq)) flow = undefined
    if (!flow) {
      // The SYN's sender is the client; a SYN|ACK's receiver is; otherwise the first sender.
      const senderIsServer = syn && !synOnly
      const client = senderIsServer ? to : from
      const server = senderIsServer ? from : to
      flow = {
        id: this.all.length,
        client,
        server,
        clientKey: senderIsServer ? toKey : fromKey,
        toServer: new Direction(),
        toClient: new Direction(),
      }
      this.flowsByKey.set(key, flow)
      this.all.push(flow)
    }
    const dirName: FlowDirection = fromKey === flow.clientKey ? 'toServer' : 'toClient'
    const d = flow[dirName]
    const delivered: Uint8Array[] = []

    if (seg.flags & TcpFlag.RST) {
      d.rst = true
      return []
    }
    // A SYN occupies one sequence number before the first data byte.
    const dataSeq = syn ? (seg.seq + 1) >>> 0 : seg.seq
    if (d.base === undefined) d.base = dataSeq
    const length = Math.max(payloadLength, seg.payload.length)
    if (length > 0) {
      d.add({ offset: d.offsetOf(dataSeq), data: seg.payload, length, ts }, delivered)
      while (d.pendingBytes > this.maxBytes || d.pending.length > this.maxSegments) d.skipHole(delivered)
    }
    if (seg.flags & TcpFlag.FIN) d.fin = true
    return delivered.map((data) => ({ flow: flow.id, dir: dirName, data }))
  }

  /** A SYN on a known 4-tuple starts a new conversation if the old one ended (port reuse). */
  private isNewConnection(flow: FlowState, fromKey: string, seq: number): boolean {
    const ended = flow.toServer.fin || flow.toServer.rst || flow.toClient.fin || flow.toClient.rst
    const d = fromKey === flow.clientKey ? flow.toServer : flow.toClient
    return ended && d.base !== ((seq + 1) >>> 0)
  }

  /** The out-of-order segments and bytes currently waiting, per flow direction (the memory bound). */
  buffered(): { segments: number; bytes: number }[] {
    return this.all.flatMap((f) => [f.toServer, f.toClient].map((d) => ({ segments: d.pending.length, bytes: d.pendingBytes })))
  }

  /** Flushes every waiting segment (recording the holes before them) and returns all flows. */
  finish(): TcpFlow[] {
    const sink: Uint8Array[] = []
    return this.all.map((f) => {
      for (const d of [f.toServer, f.toClient]) while (d.pending.length > 0) d.skipHole(sink)
      return { id: f.id, client: f.client, server: f.server, toServer: f.toServer.result(), toClient: f.toClient.result() }
    })
  }
}

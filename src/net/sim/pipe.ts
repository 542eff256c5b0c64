// One direction of one virtual TCP connection: segments a write per the link's options, schedules
// each delivery at its arrival time, keeps them in order (jitter never reorders a connection), and
// blocks the writer when the receive window (in flight + unread) is full.

import { NetError } from '../world.js'
import type { LinkDir } from './link.js'
import type { Segment, Verdict } from './middlebox.js'
import type { Scheduler } from './scheduler.js'
import type { SimConn } from './conn.js'
import type { Trace } from './trace.js'

/** What watches the wire: a tap writing pcap, or a counter. Times are virtual ms. */
export interface WireObserver {
  open(flow: FlowInfo, time: number): void
  data(flow: FlowInfo, fromClient: boolean, bytes: Uint8Array, time: number): void
  fin(flow: FlowInfo, fromClient: boolean, time: number): void
  rst(flow: FlowInfo, fromClient: boolean, time: number): void
}

export interface FlowInfo {
  readonly id: number
  readonly clientHost: string
  readonly clientAddress: string
  readonly clientPort: number
  readonly serverHost: string
  readonly serverAddress: string
  readonly serverPort: number
}

/** The parts of the network a pipe uses. */
export interface PipeEnv {
  sched: Scheduler
  trace: Trace
  observers: WireObserver[]
  stats: { segments: number; deliveries: number; bytes: number }
}

interface Delivery {
  arrival: number
  chunks: Buffer[]
  bytes: number
  fin: boolean
  rst: boolean
}

export class Pipe {
  private queue: Delivery[] = []
  private head = 0
  private lastArrival = 0
  private inflight = 0
  private pendingWrite: { chunk: Buffer; cb: (err?: Error | null) => void } | undefined
  private pendingFin: ((err?: Error | null) => void) | undefined
  /** FIN or RST has been put on the wire; nothing more may be sent. */
  closed = false
  /** Bytes the writer handed over (for stall reports). */
  sent = 0
  /** Bytes delivered to the reader. */
  delivered = 0
  /** Set when the connection broke (reset, partition drop); further writes fail with it. */
  broken: NetError | undefined
  /** The other direction of the same connection (towards this pipe's sender); set by the network. */
  reverse: Pipe | undefined
  /** A middlebox lost a segment of this direction: TCP cannot deliver past the hole, so nothing more arrives. */
  frozen = false
  /** Bytes lost behind the hole: never acknowledged, they keep filling the sender's window. */
  lost = 0

  constructor(
    private readonly env: PipeEnv,
    readonly dir: LinkDir,
    readonly flow: FlowInfo,
    readonly fromClient: boolean,
    /** The conn end receiving this pipe's bytes. */
    public dst: SimConn | undefined,
  ) {
    dir.pipes.add(this)
  }

  get tag(): string {
    return `#${this.flow.id}${this.fromClient ? '>' : '<'}`
  }

  /** Bytes on the wire or delivered but unread: what the receive window counts. */
  private outstanding(): number {
    return this.inflight + this.lost + (this.dst ? this.dst.unread : 0)
  }

  private windowOpen(): boolean {
    return this.outstanding() < this.dir.options.windowBytes
  }

  write(chunk: Buffer, cb: (err?: Error | null) => void): void {
    if (this.broken) return cb(this.broken)
    if (this.closed) return cb(new NetError('EPIPE', 'write after end'))
    this.sent += chunk.length
    if (this.pendingWrite === undefined && this.windowOpen()) {
      this.transmit(chunk)
      cb()
    } else this.pendingWrite = { chunk, cb }
  }

  /** Half-close: FIN after every byte written so far. */
  fin(cb: (err?: Error | null) => void): void {
    if (this.broken) return cb(this.broken)
    if (this.closed) return cb()
    if (this.pendingWrite) {
      this.pendingFin = cb
      return
    }
    this.sendFlag('fin')
    cb()
  }

  /** Sends RST: the receiver errors with ECONNRESET once it arrives, after the data ahead of it. */
  rst(afterClose = false): void {
    if (this.broken || (this.closed && !afterClose)) return
    this.failPending(new NetError('ECONNRESET', 'connection reset locally'))
    this.sendFlag('rst')
  }

  /** The receiver read some bytes: the window may have opened. */
  pump(): void {
    if (this.broken) return
    if (this.pendingWrite && this.windowOpen()) {
      const { chunk, cb } = this.pendingWrite
      this.pendingWrite = undefined
      this.transmit(chunk)
      cb()
    }
    if (this.pendingFin && !this.pendingWrite) {
      const cb = this.pendingFin
      this.pendingFin = undefined
      this.sendFlag('fin')
      cb()
    }
  }

  /** Throws away everything in flight and fails the writer (connection broken by the network). */
  break(err: NetError): void {
    this.broken = err
    this.queue = []
    this.head = 0
    this.inflight = 0
    this.failPending(err)
    this.closed = true
    this.dir.pipes.delete(this)
  }

  private failPending(err: Error): void {
    const w = this.pendingWrite
    const f = this.pendingFin
    this.pendingWrite = undefined
    this.pendingFin = undefined
    w?.cb(err)
    f?.(err)
  }

  private transmit(chunk: Buffer): void {
    const o = this.dir.options
    const rng = this.dir.rng
    const len = chunk.length
    let off = 0
    while (off < len) {
      let n = len - off
      if (n > o.mss) n = o.mss
      if (n > 1 && o.splitP > 0 && rng.chance(o.splitP)) n = rng.int(1, n - 1)
      this.onWire(chunk.subarray(off, off + n))
      off += n
    }
  }

  /** A segment leaves the sender: past the link's middleboxes (if any), then into flight. */
  private onWire(seg: Buffer): void {
    const boxes = this.dir.link.middleboxes
    if (boxes.length === 0) return this.enqueue(seg)
    if (this.frozen) return this.lose(seg.length, 'frozen')
    const view: Segment = { flow: this.flow, fromClient: this.fromClient, bytes: seg, flag: undefined, time: this.env.sched.now() }
    for (const box of boxes) {
      const v = box.segment(view)
      if (v.kind === 'pass') continue
      this.applyVerdict(v, box.name, seg)
      return
    }
    this.enqueue(seg)
  }

  private applyVerdict(v: Exclude<Verdict, { kind: 'pass' }>, box: string, seg: Buffer): void {
    const now = this.env.sched.now()
    this.frozen = true
    if (v.kind === 'truncate') {
      const keep = Math.max(0, Math.min(seg.length, v.keep))
      this.env.trace.line(`${now} ${this.tag} ${box} freeze after ${keep}/${seg.length}`)
      if (keep > 0) this.enqueue(seg.subarray(0, keep))
      this.lose(seg.length - keep, undefined)
      return
    }
    this.env.trace.line(`${now} ${this.tag} ${box} ${v.kind === 'rst' ? `rst-${v.to}` : 'drop'} ${seg.length}`)
    this.lose(seg.length, undefined)
    if (v.kind === 'rst') {
      // "both" and "server"/"client" are named by the flow's ends, not by this pipe's direction.
      const toServer = v.to !== 'client'
      const toClient = v.to !== 'server'
      const towardServer = this.fromClient ? this : this.reverse
      const towardClient = this.fromClient ? this.reverse : this
      if (toServer) towardServer?.injectRst()
      if (toClient) towardClient?.injectRst()
    }
  }

  private lose(bytes: number, why: string | undefined): void {
    this.lost += bytes
    if (why) this.env.trace.line(`${this.env.sched.now()} ${this.tag} lost ${bytes} (${why})`)
  }

  /** A middlebox's forged RST towards this pipe's receiver, arriving behind what is in flight. */
  injectRst(): void {
    const now = this.env.sched.now()
    const at = Math.max(now + this.dir.options.latencyMs, this.lastArrival)
    this.env.trace.line(`${now} ${this.tag} inject-rst`)
    this.env.sched.at(at, `${this.tag} injected rst`, () => {
      this.env.trace.line(`${at} ${this.tag} rst (injected)`)
      for (const o of this.env.observers) o.rst(this.flow, this.fromClient, at)
      this.dst?.peerReset()
    })
  }

  private arrivalTime(bytes: number): number {
    const o = this.dir.options
    let depart = Math.max(this.env.sched.now(), this.dir.txFree)
    if (o.bandwidth > 0) {
      depart += (bytes * 1000) / o.bandwidth
      this.dir.txFree = depart
    }
    return depart + o.latencyMs + (o.jitterMs > 0 ? this.dir.rng.int(0, o.jitterMs) : 0)
  }

  private enqueue(seg: Buffer): void {
    this.env.stats.segments++
    this.inflight += seg.length
    const arrival = this.arrivalTime(seg.length)
    const o = this.dir.options
    const last = this.head < this.queue.length ? this.queue[this.queue.length - 1] : undefined
    if (last && !last.fin && !last.rst && o.coalesceP > 0 && this.dir.rng.chance(o.coalesceP)) {
      last.chunks.push(seg)
      last.bytes += seg.length
      if (arrival > last.arrival) {
        last.arrival = arrival
        this.lastArrival = arrival
        this.schedule(arrival)
      }
      return
    }
    this.push({ arrival, chunks: [seg], bytes: seg.length, fin: false, rst: false })
  }

  private sendFlag(flag: 'fin' | 'rst'): void {
    this.closed = true
    this.env.trace.line(`${this.env.sched.now()} ${this.tag} send-${flag}`)
    const boxes = this.dir.link.middleboxes
    if (boxes.length > 0) {
      if (this.frozen) return this.lose(0, `${flag} behind the hole`)
      const view: Segment = { flow: this.flow, fromClient: this.fromClient, bytes: new Uint8Array(0), flag, time: this.env.sched.now() }
      for (const box of boxes) {
        const v = box.segment(view)
        if (v.kind === 'pass') continue
        this.frozen = true
        return this.lose(0, `${flag} dropped by ${box.name}`)
      }
    }
    this.push({ arrival: this.arrivalTime(0), chunks: [], bytes: 0, fin: flag === 'fin', rst: flag === 'rst' })
  }

  private push(d: Delivery): void {
    if (d.arrival < this.lastArrival) d.arrival = this.lastArrival
    this.lastArrival = d.arrival
    this.queue.push(d)
    this.schedule(d.arrival)
  }

  private schedule(time: number): void {
    this.env.sched.at(time, this.tag, () => this.flush(false))
  }

  /** Delivers every delivery that is due, one push each; `merged` (release) joins them into one. */
  flush(merged: boolean): void {
    if (this.dir.blocked) return
    const now = this.env.sched.now()
    if (merged) {
      const due: Delivery[] = []
      while (this.head < this.queue.length && this.queue[this.head]!.arrival <= now) due.push(this.queue[this.head++]!)
      if (due.length > 1) {
        const data = due.filter((d) => d.bytes > 0)
        const joined: Delivery = {
          arrival: now,
          chunks: data.flatMap((d) => d.chunks),
          bytes: data.reduce((s, d) => s + d.bytes, 0),
          fin: due.some((d) => d.fin),
          rst: due.some((d) => d.rst),
        }
        this.deliver(joined)
      } else if (due.length === 1) this.deliver(due[0]!)
    }
    while (this.head < this.queue.length) {
      const d = this.queue[this.head]!
      if (d.arrival > now) break
      this.head++
      this.deliver(d)
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }

  private deliver(d: Delivery): void {
    const env = this.env
    const now = env.sched.now()
    const dst = this.dst
    if (d.bytes > 0) {
      this.inflight -= d.bytes
      const data = d.chunks.length === 1 ? d.chunks[0]! : Buffer.concat(d.chunks, d.bytes)
      env.stats.deliveries++
      env.stats.bytes += d.bytes
      this.delivered += d.bytes
      env.trace.line(`${now} ${this.tag} seg ${d.bytes}`)
      for (const o of env.observers) o.data(this.flow, this.fromClient, data, now)
      if (dst && !dst.destroyed) dst.receive(data)
      else if (dst) {
        // Data for a closed socket: the kernel answers with RST.
        dst.answerWithReset()
      }
    }
    if (d.fin) {
      env.trace.line(`${now} ${this.tag} fin`)
      for (const o of env.observers) o.fin(this.flow, this.fromClient, now)
      if (dst && !dst.destroyed) dst.receive(null)
    }
    if (d.rst) {
      env.trace.line(`${now} ${this.tag} rst`)
      for (const o of env.observers) o.rst(this.flow, this.fromClient, now)
      if (dst) dst.peerReset()
    }
    if (this.dst === undefined || !this.dst.destroyed) this.pump()
  }

  /** A line for stall reports. */
  describe(): string {
    return `${this.tag} sent ${this.sent} delivered ${this.delivered} in-flight ${this.inflight} unread ${this.dst ? this.dst.unread + this.dst.readableLength : 0}${this.pendingWrite ? ' (writer blocked on window)' : ''}${this.dir.blocked ? ' (link held)' : ''}`
  }
}

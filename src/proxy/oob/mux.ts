// Stream multiplexing over one authenticated OOB channel, shared by the client and the helper.
// The owner feeds it frames (after AUTH) and gives it a way to write bytes; it keeps the streams,
// the credit windows and the pending OPEN/RESOLVE requests. A protocol violation ends the session.

import { WireError } from '../../wire/bytes.js'
import { type CloseReasonName, encodeFrame, type OobFrame } from './frame.js'
import { OobError, OobStream, type StreamHost } from './stream.js'

export interface MuxOptions {
  role: 'client' | 'helper'
  maxPayload: number
  /** Receive window we grant per stream. */
  window: number
  /** Writes bytes to the channel; returns false when the channel is full (wait for resume()). */
  write(bytes: Uint8Array): boolean
  /** Ends the channel (after a protocol error or close()). */
  end(reason: Error): void
  /** Helper: a client asked for a stream. Call accept()/refuse() on the handle. */
  onOpen?(req: OpenRequest): void
  /** Helper: a client asked for a name. */
  onResolve?(host: string): Promise<{ reason: CloseReasonName; addresses: string[] }>
  /** Helper: counts DATA bytes in both directions for per-client limits; returning false closes. */
  onBytes?(n: number): boolean
  maxStreams?: number
}

export interface OpenRequest {
  host: string
  port: number
  stream: OobStream
  accept(address: string): void
  refuse(reason: CloseReasonName, message: string): void
}

export class Mux implements StreamHost {
  readonly maxPayload: number
  private readonly streams = new Map<number, OobStream>()
  private readonly pendingOpens = new Map<number, { resolve: (s: OobStream) => void; reject: (e: Error) => void; stream: OobStream }>()
  private readonly pendingResolves = new Map<number, { resolve: (a: string[]) => void; reject: (e: Error) => void }>()
  private nextId = 1
  private resolving = 0
  private full = false
  private dead: Error | undefined

  constructor(private readonly o: MuxOptions) {
    this.maxPayload = o.maxPayload
  }

  get canSend(): boolean {
    return !this.full && !this.dead
  }
  get streamCount(): number {
    return this.streams.size
  }
  get closed(): boolean {
    return this.dead !== undefined
  }

  send(frame: OobFrame): void {
    if (this.dead) return
    if (frame.type === 'data' && this.o.onBytes && !this.o.onBytes(frame.data.length)) return this.fail(new OobError('limit', 'byte limit reached'))
    if (!this.o.write(encodeFrame(frame, this.maxPayload))) this.full = true
  }

  /** The channel drained: let the streams send again. */
  resume(): void {
    this.full = false
    for (const s of this.streams.values()) {
      if (this.full) break
      s.flush()
    }
  }

  forget(id: number): void {
    this.streams.delete(id)
  }

  /** Client: opens a stream to host:port through the helper. */
  open(host: string, port: number): Promise<OobStream> {
    if (this.dead) return Promise.reject(this.dead)
    const id = this.allocate()
    const stream = new OobStream(this, id, this.o.window)
    this.streams.set(id, stream)
    return new Promise((resolve, reject) => {
      this.pendingOpens.set(id, { resolve, reject, stream })
      this.send({ type: 'open', stream: id, host, port, window: this.o.window })
    })
  }

  /** Client: asks the helper for a name's addresses. */
  resolve(host: string): Promise<string[]> {
    if (this.dead) return Promise.reject(this.dead)
    const id = this.allocate()
    return new Promise((resolve, reject) => {
      this.pendingResolves.set(id, { resolve, reject })
      this.send({ type: 'resolve', stream: id, host })
    })
  }

  /** Handles one frame received after authentication. */
  handle(f: OobFrame): void {
    if (this.dead) return
    switch (f.type) {
      case 'open':
        return this.onOpen(f)
      case 'opened': {
        const p = this.pendingOpens.get(f.stream)
        if (!p) return this.protocolError(`OPENED for unknown stream ${f.stream}`)
        this.pendingOpens.delete(f.stream)
        p.stream.remoteAddress = f.address
        p.stream.addCredit(f.window)
        return p.resolve(p.stream)
      }
      case 'data': {
        if (this.o.onBytes && !this.o.onBytes(f.data.length)) return this.fail(new OobError('limit', 'byte limit reached'))
        const s = this.streams.get(f.stream)
        if (!s) return // raced with our CLOSE
        if (!s.deliver(f.data)) return this.protocolError(`stream ${f.stream}: DATA beyond the granted window`)
        return
      }
      case 'window':
        this.streams.get(f.stream)?.addCredit(f.increment)
        return
      case 'close': {
        const p = this.pendingOpens.get(f.stream)
        if (p) {
          this.pendingOpens.delete(f.stream)
          this.streams.delete(f.stream)
          return p.reject(new OobError(f.reason, f.message))
        }
        this.streams.get(f.stream)?.remoteClose(f.reason, f.message)
        return
      }
      case 'resolve':
        return this.onResolve(f.stream, f.host)
      case 'resolved': {
        const p = this.pendingResolves.get(f.stream)
        if (!p) return this.protocolError(`RESOLVED for unknown request ${f.stream}`)
        this.pendingResolves.delete(f.stream)
        return f.reason === 'fin' ? p.resolve(f.addresses) : p.reject(new OobError(f.reason, `resolve failed`))
      }
      case 'ping':
        if (!f.ack) this.send({ type: 'ping', ack: true, opaque: f.opaque })
        return
      default:
        return this.protocolError(`${f.type} after authentication`)
    }
  }

  /** Ends every stream and request with `err` (channel lost, or closing). */
  fail(err: Error): void {
    if (this.dead) return
    this.dead = err
    for (const p of this.pendingOpens.values()) p.reject(err)
    for (const p of this.pendingResolves.values()) p.reject(err)
    this.pendingOpens.clear()
    this.pendingResolves.clear()
    for (const s of [...this.streams.values()]) s.abortLocal(err)
    this.streams.clear()
    this.o.end(err)
  }

  protocolError(why: string): void {
    this.fail(new WireError('bad-value', `OOB protocol error: ${why}`))
  }

  private allocate(): number {
    const id = this.nextId
    this.nextId += 2
    if (this.nextId > 0xffffffff) this.nextId = 1
    return id
  }

  private onOpen(f: Extract<OobFrame, { type: 'open' }>): void {
    if (this.o.role !== 'helper' || !this.o.onOpen) return this.protocolError('OPEN sent to a client')
    if (this.streams.has(f.stream) || f.stream % 2 === 0) return this.protocolError(`OPEN reuses or mis-numbers stream ${f.stream}`)
    if (this.streams.size >= (this.o.maxStreams ?? Infinity)) {
      this.send({ type: 'close', stream: f.stream, reason: 'limit', message: 'too many streams' })
      return
    }
    const stream = new OobStream(this, f.stream, this.o.window)
    this.streams.set(f.stream, stream)
    let answered = false
    this.o.onOpen({
      host: f.host,
      port: f.port,
      stream,
      accept: (address) => {
        if (answered || this.dead || !this.streams.has(f.stream)) return
        answered = true
        this.send({ type: 'opened', stream: f.stream, window: this.o.window, address })
        stream.addCredit(f.window)
      },
      refuse: (reason, message) => {
        if (answered) return
        answered = true
        this.streams.delete(f.stream)
        this.send({ type: 'close', stream: f.stream, reason, message: message.slice(0, 200) })
        stream.abortLocal(new OobError(reason, message))
      },
    })
  }

  private onResolve(id: number, host: string): void {
    if (this.o.role !== 'helper' || !this.o.onResolve) return this.protocolError('RESOLVE sent to a client')
    // Lookups in flight are bounded like streams.
    if (this.resolving >= (this.o.maxStreams ?? 256)) return this.send({ type: 'resolved', stream: id, reason: 'limit', addresses: [] })
    this.resolving++
    this.o.onResolve(host)
      .then(
        (r) => this.send({ type: 'resolved', stream: id, reason: r.reason, addresses: r.addresses.slice(0, 32) }),
        () => this.send({ type: 'resolved', stream: id, reason: 'notFound', addresses: [] }),
      )
      .finally(() => this.resolving--)
  }
}

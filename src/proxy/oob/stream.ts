// One multiplexed OOB stream as a Duplex, so it can stand in for a TCP connection (a Conn) and be
// piped with back-pressure. Sending is bounded by the peer's credit (WINDOW); receiving grants
// credit back only as the reader consumes, so neither side buffers more than one window per stream.

import { Duplex } from 'node:stream'
import type { CloseReasonName, OobFrame } from './frame.js'

export class OobError extends Error {
  override readonly name = 'OobError'
  /** errno-style, so the proxy reports an OOB failure like a socket failure. */
  readonly code: string
  constructor(
    readonly reason: CloseReasonName,
    message: string,
  ) {
    super(`OOB ${reason}${message ? `: ${message}` : ''}`)
    this.code = reason === 'reset' || reason === 'shutdown' ? 'ECONNRESET' : reason === 'refused' ? 'ECONNREFUSED' : reason === 'timeout' ? 'ETIMEDOUT' : reason === 'notFound' ? 'ENOTFOUND' : 'EOOB'
  }
}

/** What a stream needs from its multiplexer. */
export interface StreamHost {
  readonly maxPayload: number
  /** False while the transport is full: stop sending DATA until resumeStreams(). */
  readonly canSend: boolean
  send(frame: OobFrame): void
  forget(id: number): void
}

export class OobStream extends Duplex {
  /** Bytes the peer still lets us send. */
  private credit = 0
  private pending: { chunk: Uint8Array; at: number; cb: (err?: Error | null) => void } | undefined
  private received = 0
  private granted: number
  private localFin = false
  private remoteFin = false
  private finished = false
  /** Set by the front for logging: what the helper connected to. */
  remoteAddress: string | undefined

  constructor(
    private readonly host: StreamHost,
    readonly id: number,
    /** Our receive window: the peer may have this many unconsumed bytes in flight. */
    readonly window: number,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: window, writableHighWaterMark: Math.min(window, 64 * 1024) })
    this.granted = window
  }

  setNoDelay(): void {}

  addCredit(n: number): void {
    this.credit += n
    this.flush()
  }

  /** DATA from the peer; false if it exceeded the credit we gave (a protocol error). */
  deliver(data: Uint8Array): boolean {
    if (this.remoteFin || this.finished) return true // after our reset: drop silently
    this.received += data.length
    if (this.received > this.granted) return false
    this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
    return true
  }

  /** CLOSE from the peer. */
  remoteClose(reason: CloseReasonName, message: string): void {
    if (reason === 'fin') {
      if (this.remoteFin) return
      this.remoteFin = true
      this.push(null)
      this.maybeDone()
      return
    }
    this.finished = true
    this.host.forget(this.id)
    this.destroyQuietly(new OobError(reason, message))
  }

  /** The transport went away under us. */
  abortLocal(err: Error): void {
    if (this.finished) return
    this.finished = true
    this.destroyQuietly(err)
  }

  /** A stream nobody listens to yet (an OPEN still pending) must not raise an unhandled 'error'. */
  private destroyQuietly(err: Error): void {
    if (this.listenerCount('error') > 0) this.destroy(err)
    else this.destroy()
  }

  flush(): void {
    while (this.pending && this.credit > 0 && this.host.canSend && !this.finished) {
      const p = this.pending
      const n = Math.min(p.chunk.length - p.at, this.credit, this.host.maxPayload)
      this.host.send({ type: 'data', stream: this.id, data: p.chunk.subarray(p.at, p.at + n) })
      this.credit -= n
      p.at += n
      if (p.at === p.chunk.length) {
        this.pending = undefined
        p.cb()
      }
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.finished) return cb(new OobError('reset', 'stream closed'))
    this.pending = { chunk: new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), at: 0, cb }
    this.flush()
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.finished) this.host.send({ type: 'close', stream: this.id, reason: 'fin', message: '' })
    this.localFin = true
    this.maybeDone()
    cb()
  }

  override _read(): void {
    this.grantConsumed()
    // Node calls _read before it takes the bytes out of the buffer, and calls it again only after a
    // push; so also look once more when this read() has finished, or a peer that is out of credit
    // (and so pushes nothing) would stall the stream for good.
    queueMicrotask(() => this.grantConsumed())
  }

  /**
   * Credits back what the reader has taken, once it is worth a frame — or at once when the peer is
   * nearly out of credit.
   */
  private grantConsumed(): void {
    if (this.finished || this.remoteFin) return
    const consumed = this.received - this.readableLength
    const inc = consumed + this.window - this.granted
    const peerCredit = this.granted - this.received
    if (inc >= Math.max(1, this.window / 4) || (inc > 0 && peerCredit < this.window / 4)) {
      this.granted += inc
      this.host.send({ type: 'window', stream: this.id, increment: inc })
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.finished) {
      this.finished = true
      if (!(this.localFin && this.remoteFin)) this.host.send({ type: 'close', stream: this.id, reason: 'reset', message: err?.message.slice(0, 200) ?? '' })
      this.host.forget(this.id)
    }
    const p = this.pending
    this.pending = undefined
    p?.cb(err ?? new OobError('reset', 'stream closed'))
    cb(err)
  }

  private maybeDone(): void {
    if (this.localFin && this.remoteFin && !this.finished) {
      this.finished = true
      this.host.forget(this.id)
    }
  }
}

// A virtual TCP connection end: a Node Duplex (so node:tls and any stream code run over it) whose
// writes go into one Pipe and whose reads come out of the other. end() is a half-close (FIN), the
// other direction keeps working; destroy() closes like a socket (FIN, then RST for data that still
// arrives); resetAndDestroy() sends RST; a received RST errors with ECONNRESET.

import { Duplex } from 'node:stream'
import { NetError } from '../world.js'
import type { Pipe } from './pipe.js'

export class SimConn extends Duplex {
  private tx!: Pipe
  private rx!: Pipe
  private rxQueue: (Buffer | null)[] = []
  private rxHead = 0
  private wants = false
  /** Bytes delivered but not yet taken by the reader (counted by the sender's window). */
  unread = 0
  private resetting = false
  private answered = false
  private onClosed: () => void = () => {}

  constructor(
    readonly localAddress: string,
    readonly localPort: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {
    // Half-open like net.Socket({allowHalfOpen: true}): EOF from the peer leaves our side writable.
    super({ allowHalfOpen: true, decodeStrings: true })
  }

  /** Wires the end to its two pipes (the network does this once). */
  attach(tx: Pipe, rx: Pipe, onClosed: () => void): void {
    this.tx = tx
    this.rx = rx
    this.onClosed = onClosed
  }

  get remoteFamily(): string {
    return 'IPv4'
  }

  setNoDelay(_noDelay?: boolean): this {
    return this
  }

  setKeepAlive(_enable?: boolean, _delay?: number): this {
    return this
  }

  /** Closes with RST instead of FIN (like net.Socket#resetAndDestroy). */
  resetAndDestroy(): this {
    this.resetting = true
    this.destroy()
    return this
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.tx.write(chunk, cb)
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.tx.fin(cb)
  }

  override _read(): void {
    // Readable calls _read once and then waits for a push; remember that it wants data so the next
    // delivery goes straight in, and keep anything beyond its buffer here, where the window sees it.
    this.wants = true
    while (this.wants && this.rxHead < this.rxQueue.length) {
      const c = this.rxQueue[this.rxHead++]!
      if (c) this.unread -= c.length
      this.wants = this.push(c)
    }
    if (this.rxHead === this.rxQueue.length) {
      this.rxQueue = []
      this.rxHead = 0
    }
    this.rx.pump()
  }

  /** Bytes (or EOF, null) arriving from the wire. */
  receive(chunk: Buffer | null): void {
    if (this.wants && this.rxHead === this.rxQueue.length) {
      this.wants = this.push(chunk)
      return
    }
    this.rxQueue.push(chunk)
    if (chunk) this.unread += chunk.length
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.resetting) this.tx.rst()
    else if (!this.tx.closed) this.tx.fin(() => {})
    this.onClosed()
    cb(err)
  }

  /** The peer's RST arrived. */
  peerReset(): void {
    this.tx.break(new NetError('ECONNRESET', 'connection reset by peer'))
    if (!this.destroyed) this.destroy(new NetError('ECONNRESET', `connection reset by peer ${this.remoteAddress}:${this.remotePort}`))
  }

  /** Data arrived after we closed: answer RST so the peer learns, as a kernel would. */
  answerWithReset(): void {
    if (this.answered) return
    this.answered = true
    this.tx.rst(true)
  }

  /** The network broke the connection (link reset, partition): error now, as a socket would. */
  fail(err: NetError): void {
    this.tx.break(err)
    if (!this.destroyed) this.destroy(err)
  }
}

// An exit stream (tor-spec §6.2, opening-streams.html): BEGIN host:port, a connection made with
// the World's Net (inside the simulation, to a simulated host), CONNECTED with the address and a
// TTL or END with the reason it failed, then bytes both ways. Reading from the target stops while
// the windows are shut (its TCP window then closes too); writing to it stops our stream SENDMEs
// while its send buffer is full. END from the client flushes and closes the target; EOF from the
// target becomes END DONE once the bytes before it have been packaged.

import type { Conn, Timer } from '../../net/world.js'
import { EndReason } from '../../wire/tor/relay-msg.js'
import { EdgeStream, type EdgeCircuit } from './edge-stream.js'

export interface ExitOptions {
  /** Whether to connect to `host` (as the client named it) on `port`; default: accept everything. */
  policy?: (host: string, port: number) => boolean
  /** Name resolution for BEGIN and RESOLVE; without it names go to the Net as they are. */
  resolve?: (host: string) => string | undefined
  /** Give up on a connect after this long (default 30 s). */
  connectTimeoutMs?: number
}

/** TTL we report in CONNECTED and RESOLVED (tor clips to 60..86400 s; any value does here). */
export const EXIT_TTL_SECONDS = 300
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** The 4 address bytes of a dotted quad, or undefined. */
export function ipv4Octets(addr: string | undefined): Uint8Array | undefined {
  const m = addr ? IPV4.exec(addr.replace(/^::ffff:/, '')) : null
  if (!m) return undefined
  const o = m.slice(1, 5).map(Number)
  return o.some((x) => x > 255) ? undefined : Uint8Array.from(o)
}

/** RELAY_END reason for a failed connect or a broken connection (errno-style code). */
export function endReasonForError(code: string | undefined): number {
  switch (code) {
    case 'ECONNREFUSED':
      return EndReason.CONNECTREFUSED
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return EndReason.RESOLVEFAILED
    case 'ETIMEDOUT':
      return EndReason.TIMEOUT
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return EndReason.NOROUTE
    case 'ECONNRESET':
    case 'EPIPE':
      return EndReason.CONNRESET
    default:
      return EndReason.MISC
  }
}

export class ExitStream extends EdgeStream {
  private conn: Conn | undefined
  /** Client DATA that came before the connection was up (optimistic data), bounded by the window. */
  private early: Uint8Array[] = []
  private timer: Timer | undefined

  constructor(circuit: EdgeCircuit, streamId: number) {
    super(circuit, streamId)
  }

  /**
   * Handles BEGIN (the circuit has registered the stream already): checks the policy, resolves,
   * connects, and answers CONNECTED or END.
   */
  begin(host: string, port: number, opts: ExitOptions): void {
    const world = this.circuit.world
    if (port === 0 || (opts.policy && !opts.policy(host, port))) return this.end(EndReason.EXITPOLICY)
    let target = host
    if (opts.resolve && !ipv4Octets(host)) {
      const addr = opts.resolve(host)
      if (addr === undefined) return this.end(EndReason.RESOLVEFAILED)
      target = addr
    }
    const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    this.timer = world.setTimer(timeoutMs, () => this.end(EndReason.TIMEOUT))
    world.net.connect(target, port).then(
      (conn) => this.connected(conn),
      (e: Error & { code?: string }) => {
        this.timer?.cancel()
        world.trace('tor-exit-connect-failed', { host, port, why: e.message })
        this.end(endReasonForError(e.code))
      },
    )
  }

  private connected(conn: Conn): void {
    this.timer?.cancel()
    conn.on('error', () => {}) // handled below once wired; an abandoned conn must not throw
    if (this.state !== 'connecting') {
      conn.destroy()
      return
    }
    this.conn = conn
    this.state = 'open'
    const addr = ipv4Octets(conn.remoteAddress)
    this.circuit.sendRelay(addr ? { cmd: 'CONNECTED', address: addr, ttl: EXIT_TTL_SECONDS } : { cmd: 'CONNECTED' }, this.streamId)
    this.circuit.world.trace('tor-exit-connected', { stream: this.streamId, to: `${conn.remoteAddress}:${conn.remotePort}` })
    conn.on('data', (d: Buffer) => this.produce(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)))
    conn.on('end', () => this.produceEnd())
    conn.on('error', (e: Error & { code?: string }) => this.end(endReasonForError(e.code)))
    conn.on('close', () => this.produceEnd())
    conn.on('drain', () => this.sinkDrained())
    let room = true
    for (const d of this.early.splice(0)) room = this.sinkWrite(d)
    if (room) this.sinkDrained()
    this.pump()
  }

  private sinkWrite(data: Uint8Array): boolean {
    if (!this.conn || this.conn.destroyed) return true
    return this.conn.write(data)
  }

  protected deliver(data: Uint8Array): boolean {
    if (this.state === 'connecting') {
      // No stream SENDME for these until the target has taken them: the window bounds what we hold.
      this.early.push(data.slice())
      return false
    }
    return this.sinkWrite(data)
  }

  protected onClientEnd(): void {
    this.timer?.cancel()
    const conn = this.conn
    if (!conn) return // still connecting: connected() drops the connection when it comes
    // Flush what the target has not read yet, then close (tor: connection_mark_and_flush).
    conn.removeAllListeners('data')
    conn.on('data', () => {})
    if (conn.writableEnded) conn.destroy()
    else conn.end(() => conn.destroy())
  }

  protected pauseSource(): void {
    this.conn?.pause()
  }

  protected resumeSource(): void {
    if (this.conn && this.conn.isPaused()) this.conn.resume()
  }

  protected onClosedByUs(): void {
    this.timer?.cancel()
    const conn = this.conn
    if (!conn) return
    conn.removeAllListeners('data')
    conn.on('data', () => {})
    if (conn.destroyed) return
    if (conn.writableEnded) conn.destroy()
    else conn.end(() => conn.destroy())
  }

  abort(): void {
    this.timer?.cancel()
    this.state = 'closed'
    this.conn?.destroy()
  }
}

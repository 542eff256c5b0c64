// The OOB helper: accepts TLS, authenticates each client with the pre-shared key, then opens
// streams and answers lookups for it. Not an open proxy: unauthenticated peers get nothing, and
// private/loopback/link-local targets are refused after resolution unless allowPrivate (the lab).
// Per-client limits on concurrent streams and relayed bytes; idle sessions are closed.

import type { Conn, Listener, Timer, World } from '../../net/world.js'
import { acceptTls } from '../../tls/accept.js'
import { abort, splice } from '../pipe.js'
import { isIpLiteral } from '../resolver.js'
import { isPrivateAddress } from './address-policy.js'
import { OobChannel, type ChannelOptions } from './channel.js'
import type { OpenRequest } from './mux.js'

/** Resolves a name to all its addresses (the CLI injects node:dns). */
export type LookupAll = (host: string) => Promise<string[]>

export interface OobServerOptions extends ChannelOptions {
  key: Uint8Array
  tlsKey: string
  tlsCert: string
  lookup: LookupAll
  allowPrivate?: boolean
  /** Concurrent streams per client session (default 256). */
  maxStreams?: number
  /** DATA bytes per client session, both directions (default unlimited). */
  maxBytesPerSession?: number
  /** Close a session with no streams and no traffic for this long (default 5 min). */
  idleMs?: number
  /** Give up on a target connect after this long (default 10 s). */
  connectTimeoutMs?: number
  log?(line: string): void
}

export interface OobServerStats {
  sessions: number
  authFailures: number
  streamsOpened: number
  streamsRefused: number
  bytes: number
}

export class OobServer {
  readonly stats: OobServerStats = { sessions: 0, authFailures: 0, streamsOpened: 0, streamsRefused: 0, bytes: 0 }
  private readonly live = new Set<OobChannel>()
  private listener: Listener | undefined

  constructor(
    private readonly world: World,
    private readonly o: OobServerOptions,
  ) {}

  get activeSessions(): number {
    return this.live.size
  }

  async listen(port: number, host = '127.0.0.1'): Promise<Listener> {
    this.listener = await this.world.net.listen(port, (c) => this.accept(c), host)
    return this.listener
  }

  async close(): Promise<void> {
    for (const ch of this.live) ch.close()
    await this.listener?.close()
  }

  private log(line: string): void {
    this.o.log?.(line)
  }

  private accept(conn: Conn): void {
    conn.on('error', () => {})
    const peer = `${conn.remoteAddress}:${conn.remotePort}`
    acceptTls(this.world, conn, { key: this.o.tlsKey, cert: this.o.tlsCert, minVersion: 'TLSv1.3', handshakeTimeoutMs: this.o.authTimeoutMs ?? 10_000 }).then(
      (tls) => this.session(tls, peer),
      (e: Error) => this.log(`tls from ${peer} failed: ${e.message}`),
    )
  }

  private session(tls: Conn, peer: string): void {
    tls.on('error', () => {})
    tls.setNoDelay?.(true)
    let bytes = 0
    let last = this.world.now()
    const idleMs = this.o.idleMs ?? 5 * 60_000
    const ch: OobChannel = new OobChannel(this.world, tls, 'helper', this.o.key, {
      ...this.o,
      maxStreams: this.o.maxStreams ?? 256,
      onActivity: () => (last = this.world.now()),
      onBytes: (n) => {
        bytes += n
        this.stats.bytes += n
        return bytes <= (this.o.maxBytesPerSession ?? Infinity)
      },
      onOpen: (req) => this.open(req, peer),
      onResolve: async (host) => {
        const addrs = await this.o.lookup(host)
        return { reason: addrs.length ? 'fin' : 'notFound', addresses: addrs }
      },
    })
    let idleTimer: Timer | undefined
    this.live.add(ch)
    ch.ready.then(
      () => {
        this.stats.sessions++
        this.log(`session from ${peer} authenticated`)
        const tick = () => {
          if (ch.closed) return
          if (ch.mux.streamCount === 0 && this.world.now() - last >= idleMs) {
            this.log(`session from ${peer} idle, closing`)
            return ch.close()
          }
          idleTimer = this.world.setTimer(Math.max(1000, idleMs / 4), tick)
        }
        idleTimer = this.world.setTimer(Math.max(1000, idleMs / 4), tick)
      },
      (e: Error) => {
        this.stats.authFailures++
        this.log(`session from ${peer} not authenticated: ${e.message}`)
      },
    )
    tls.once('close', () => {
      this.live.delete(ch)
      idleTimer?.cancel()
    })
  }

  private open(req: OpenRequest, peer: string): void {
    const refuse = (reason: 'refused' | 'unreachable' | 'notFound' | 'timeout', why: string) => {
      this.stats.streamsRefused++
      this.log(`${peer}: ${req.host}:${req.port} ${reason}: ${why}`)
      req.refuse(reason, why)
    }
    const go = async () => {
      const addrs = isIpLiteral(req.host) ? [req.host] : await this.o.lookup(req.host).catch(() => [])
      if (addrs.length === 0) return refuse('notFound', `cannot resolve ${req.host}`)
      const allowed = this.o.allowPrivate ? addrs : addrs.filter((a) => !isPrivateAddress(a))
      if (allowed.length === 0) return refuse('refused', `${req.host} resolves only to private addresses (${addrs.join(', ')})`)
      let conn: Conn | undefined
      let lastErr = ''
      for (const a of allowed) {
        try {
          conn = await this.connectWithin(a, req.port)
          break
        } catch (e) {
          lastErr = (e as Error).message
        }
      }
      if (!conn) return refuse(lastErr.startsWith('ETIMEDOUT') ? 'timeout' : 'unreachable', lastErr)
      if (req.stream.destroyed) return abort(conn)
      this.stats.streamsOpened++
      req.accept(`${conn.remoteAddress ?? allowed[0]}:${req.port}`)
      void splice(req.stream, conn)
    }
    go().catch((e: Error) => refuse('unreachable', e.message))
  }

  private connectWithin(address: string, port: number): Promise<Conn> {
    const ms = this.o.connectTimeoutMs ?? 10_000
    return new Promise((resolve, reject) => {
      let done = false
      const t = this.world.setTimer(ms, () => {
        if (done) return
        done = true
        reject(new Error(`ETIMEDOUT: connect to ${address}:${port}`))
      })
      this.world.net.connect(address, port).then(
        (c) => {
          t.cancel()
          if (done) return c.destroy()
          done = true
          resolve(c)
        },
        (e: Error) => {
          t.cancel()
          if (!done) {
            done = true
            reject(e)
          }
        },
      )
    })
  }
}

// The proxy's one listening port: sniffs the first byte (0x04/0x05 SOCKS, anything else HTTP),
// speaks just enough SOCKS5/4a or HTTP/1.1 to learn the target, answers GET /status with JSON and
// any other plain-HTTP request with an explanatory error page, then hands over to runTunnel.

import type { Conn, Listener, World } from '../net/world.js'
import { WireError } from '../wire/bytes.js'
import { connectAuthority, encodeResponseHead, parseRequestHead } from '../wire/http/index.js'
import { SocksServerHandshake } from '../wire/socks/index.js'
import { errorPage } from './error-page.js'
import { abort } from './pipe.js'
import { ProxyStats } from './stats.js'
import { runTunnel, type TunnelConfig, type TunnelReplies } from './tunnel.js'

export interface ProxyFrontOptions extends Omit<TunnelConfig, 'stats' | 'firstFlightTimeoutMs' | 'connectTimeoutMs' | 'maxHelloBytes' | 'log'> {
  firstFlightTimeoutMs?: number
  connectTimeoutMs?: number
  maxHelloBytes?: number
  /** Answer GET /status on the proxy port with JSON (--status). */
  statusEndpoint?: boolean
  /** Give up on a client that has not finished its SOCKS/HTTP request after this long (default 10 s). */
  introTimeoutMs?: number
  log?(line: string): void
}

const MAX_HTTP_HEAD = 16 * 1024

export class ProxyFront {
  readonly stats: ProxyStats
  private readonly cfg: TunnelConfig
  private listener: Listener | undefined
  private readonly conns = new Set<Conn>()

  constructor(private readonly o: ProxyFrontOptions) {
    this.stats = new ProxyStats(o.world.now())
    this.cfg = {
      ...o,
      stats: this.stats,
      firstFlightTimeoutMs: o.firstFlightTimeoutMs ?? 2000,
      connectTimeoutMs: o.connectTimeoutMs ?? 15_000,
      maxHelloBytes: o.maxHelloBytes ?? 64 * 1024,
      log: o.log ?? (() => {}),
    }
  }

  get world(): World {
    return this.o.world
  }

  async listen(port: number, host = '127.0.0.1'): Promise<Listener> {
    this.listener = await this.o.world.net.listen(port, (c) => this.handle(c), host)
    return this.listener
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.destroy()
    await this.listener?.close()
  }

  statusJson(): Record<string, unknown> {
    return this.stats.json(this.o.world.now())
  }

  handle(conn: Conn): void {
    this.stats.connections++
    this.stats.active++
    this.conns.add(conn)
    conn.on('error', () => {})
    conn.once('close', () => {
      this.stats.active--
      this.conns.delete(conn)
    })
    let buf = new Uint8Array(0)
    let mode: 'sniff' | 'socks' | 'http' | 'done' = 'sniff'
    let socks: SocksServerHandshake | undefined
    const intro = this.o.world.setTimer(this.o.introTimeoutMs ?? 10_000, () => {
      if (mode !== 'done') finish(), abort(conn)
    })
    const finish = () => {
      mode = 'done'
      intro.cancel()
      conn.off('data', onData)
      conn.off('end', onEnd)
      conn.pause()
    }
    // The client gave up before finishing its request: nothing to answer.
    const onEnd = () => {
      if (mode !== 'done') finish(), conn.end()
    }
    conn.on('end', onEnd)
    const onData = (d: Buffer) => {
      if (mode === 'done') return
      if (mode === 'sniff') mode = d[0] === 4 || d[0] === 5 ? 'socks' : 'http'
      if (mode === 'socks') {
        socks ??= new SocksServerHandshake({ methods: ['no-auth'] })
        for (const ev of socks.receive(d)) {
          if (ev.kind === 'send') conn.write(ev.bytes)
          else if (ev.kind === 'error') {
            finish()
            this.stats.failures++
            return void this.closeWith(conn, ev.reply)
          } else {
            finish()
            const s = socks
            if (ev.command !== 'connect') return void this.closeWith(conn, s.reply('commandNotSupported'))
            const replies: TunnelReplies = {
              ok: () => conn.write(s.reply('succeeded')),
              fail: (kind) => void this.closeWith(conn, s.reply(kind === 'unresolvable' ? 'hostUnreachable' : 'notAllowed')),
            }
            return void this.tunnel(conn, { host: ev.host, port: ev.port }, ev.leftover, replies)
          }
        }
        return
      }
      const next = new Uint8Array(buf.length + d.length)
      next.set(buf)
      next.set(d, buf.length)
      buf = next
      this.http(conn, buf, finish)
    }
    conn.on('data', onData)
  }

  private http(conn: Conn, buf: Uint8Array, finish: () => void): void {
    let parsed
    try {
      parsed = parseRequestHead(buf, { maxHeadBytes: MAX_HTTP_HEAD })
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      if (e.code === 'truncated' && buf.length <= MAX_HTTP_HEAD) return
      finish()
      this.stats.failures++
      return void this.closeWith(conn, errorPage(400, 'Bad Request', `The request could not be parsed (${e.message}).`))
    }
    finish()
    const { head, used } = parsed
    if (head.method === 'CONNECT') {
      let target
      try {
        target = connectAuthority(head)
      } catch (e) {
        return void this.closeWith(conn, errorPage(400, 'Bad Request', (e as Error).message))
      }
      const replies: TunnelReplies = {
        ok: () => conn.write(encodeResponseHead({ version: 'HTTP/1.1', status: 200, reason: 'Connection Established', headers: [] })),
        fail: (kind, why) => void this.closeWith(conn, errorPage(502, 'Bad Gateway', kind === 'unresolvable' ? `Cannot resolve the target: ${why}` : why)),
      }
      return void this.tunnel(conn, target, buf.subarray(used), replies)
    }
    if (head.method === 'GET' && head.target === '/status' && this.o.statusEndpoint) {
      const body = Buffer.from(JSON.stringify(this.statusJson()) + '\n')
      const h = encodeResponseHead({
        version: 'HTTP/1.1',
        status: 200,
        reason: 'OK',
        headers: [['Content-Type', 'application/json'], ['Content-Length', String(body.length)], ['Connection', 'close']],
      })
      return void this.closeWith(conn, Buffer.concat([h, body]))
    }
    const why =
      head.targetForm === 'absolute'
        ? `Plain-HTTP proxying (${head.method} ${head.target.slice(0, 100)}) is not supported: only HTTPS through CONNECT.`
        : `${head.method} ${head.target.slice(0, 100)} was sent to a proxy port.`
    this.closeWith(conn, errorPage(501, 'Not Implemented', why))
  }

  /**
   * Sends a last answer and closes: our FIN goes out after it, and whatever the client still sends
   * is read and dropped so its FIN is seen and the socket can close; a client that never closes is
   * cut off after a grace period.
   */
  private closeWith(conn: Conn, bytes: Uint8Array): void {
    conn.end(bytes)
    conn.resume()
    const t = this.o.world.setTimer(5000, () => conn.destroy())
    conn.once('close', () => t.cancel())
  }

  private async tunnel(conn: Conn, target: { host: string; port: number }, leftover: Uint8Array, replies: TunnelReplies): Promise<void> {
    try {
      await runTunnel(this.cfg, conn, target, leftover, replies)
    } catch (e) {
      this.stats.failures++
      this.cfg.log(`${target.host}:${target.port}: ${(e as Error).message}`)
      abort(conn)
    }
  }
}


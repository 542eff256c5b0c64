// The client's local proxy front: SOCKS5 (CONNECT with hostnames, RESOLVE F0), SOCKS4/4a and
// HTTP CONNECT on one port, told apart by the first byte. SOCKS credentials are the isolation key
// (different credentials never share a circuit; prop 351's "<torS0X>0" takes the password alone).
// END reasons map to SOCKS5 reply codes the way tor does (connection_edge.c,
// stream_end_reason_to_socks5_response). Plain HTTP requests get an explanatory 501.

import type { Duplex } from 'node:stream'
import type { Conn, Listener, World } from '../net/world.js'
import { WireError, concatBytes, isTruncated } from '../wire/bytes.js'
import { parseRequestHead } from '../wire/http/request-head.js'
import { connectAuthority } from '../wire/http/connect.js'
import { SocksServerHandshake, type SocksRequestEvent } from '../wire/socks/server-handshake.js'
import type { Socks5ReplyName } from '../wire/socks/reply.js'
import { ipv6ToText } from '../wire/socks/address.js'
import { EndReason, ResolvedType } from '../wire/tor/relay-msg.js'
import type { TorClient } from './client.js'
import { StreamError } from './errors.js'

export function socksReplyFor(e: unknown): Socks5ReplyName {
  if (!(e instanceof StreamError)) return 'generalFailure'
  if (e.code === 'timeout') return 'ttlExpired'
  if (e.code !== 'end') return 'generalFailure'
  switch (e.reason) {
    case EndReason.RESOLVEFAILED:
      return 'hostUnreachable'
    case EndReason.CONNECTREFUSED:
      return 'connectionRefused'
    case EndReason.EXITPOLICY:
      return 'notAllowed'
    case EndReason.NOROUTE:
      return 'networkUnreachable'
    case EndReason.TIMEOUT:
      return 'ttlExpired'
    default:
      return 'generalFailure'
  }
}

/** SOCKS credentials -> isolation key (prop 351). */
export function isolationKey(username?: string, password?: string): string {
  if (username === undefined && password === undefined) return ''
  if (username === '<torS0X>0') return `p:${password ?? ''}`
  return `u:${username ?? ''}\0${password ?? ''}`
}

const MAX_HTTP_HEAD = 16 * 1024

function pipeBoth(a: Duplex, b: Duplex): void {
  a.pipe(b)
  b.pipe(a)
  const end = () => {
    a.destroy()
    b.destroy()
  }
  a.on('error', end)
  b.on('error', end)
  a.on('close', end)
  b.on('close', end)
}

export interface FrontStats {
  requests: number
  failures: number
}

export async function startSocksFront(world: World, tor: TorClient, port: number, host = '127.0.0.1'): Promise<Listener & { stats: FrontStats }> {
  const stats: FrontStats = { requests: 0, failures: 0 }
  const listener = await world.net.listen(port, (conn) => serve(world, tor, conn, stats), host)
  return Object.assign(listener, { stats })
}

function serve(world: World, tor: TorClient, conn: Conn, stats: FrontStats): void {
  let first = true
  let buffered: Uint8Array = new Uint8Array(0)
  let socks: SocksServerHandshake | undefined
  conn.on('error', () => conn.destroy())
  const onData = (chunk: Buffer) => {
    const bytes = new Uint8Array(chunk)
    if (first) {
      first = false
      if (bytes[0] === 4 || bytes[0] === 5) socks = new SocksServerHandshake({ methods: ['no-auth', 'username-password'], credentials: 'accept-any' })
    }
    if (socks) {
      for (const ev of socks.receive(bytes)) {
        if (ev.kind === 'send') conn.write(ev.bytes)
        else if (ev.kind === 'error') {
          conn.end(ev.reply)
          return
        } else {
          conn.off('data', onData)
          conn.pause()
          void handleSocks(world, tor, conn, socks, ev, stats)
          return
        }
      }
      return
    }
    buffered = concatBytes(buffered, bytes)
    let parsed
    try {
      parsed = parseRequestHead(buffered, { maxHeadBytes: MAX_HTTP_HEAD })
    } catch (e) {
      if (isTruncated(e) && buffered.length < MAX_HTTP_HEAD) return
      conn.end('HTTP/1.0 400 Bad Request\r\n\r\n')
      return
    }
    conn.off('data', onData)
    conn.pause()
    if (parsed.head.method !== 'CONNECT') {
      // "HTTP-resistance": a browser pointed at us as an HTTP proxy gets an explanation.
      conn.end('HTTP/1.0 501 Tor is not an HTTP Proxy\r\nContent-Type: text/plain\r\n\r\nThis is a Tor SOCKS / HTTP CONNECT proxy; configure it as such.\n')
      return
    }
    let target
    try {
      target = connectAuthority(parsed.head)
    } catch (e) {
      conn.end(`HTTP/1.0 400 Bad Request\r\n\r\n${e instanceof WireError ? e.message : ''}\n`)
      return
    }
    const auth = parsed.head.get('proxy-authorization')
    const leftover = buffered.subarray(parsed.used)
    stats.requests++
    tor.connect(target.host, target.port, { isolation: auth ? `h:${auth}` : '' }).then(
      (stream) => {
        conn.write('HTTP/1.0 200 OK\r\n\r\n')
        if (leftover.length) stream.write(leftover)
        pipeBoth(conn, stream)
        conn.resume()
      },
      (e) => {
        stats.failures++
        const code = socksReplyFor(e) === 'ttlExpired' ? '504 Gateway Timeout' : '502 Bad Gateway'
        conn.end(`HTTP/1.0 ${code}\r\n\r\n${(e as Error).message}\n`)
      },
    )
  }
  conn.on('data', onData)
  void world
}

async function handleSocks(world: World, tor: TorClient, conn: Conn, socks: SocksServerHandshake, req: SocksRequestEvent, stats: FrontStats): Promise<void> {
  stats.requests++
  const isolation = isolationKey(req.username, req.password)
  world.trace('tor-socks-request', { command: req.command, host: req.host, port: req.port, isolated: isolation !== '' })
  if (req.command === 'resolve') {
    try {
      const answers = await tor.resolve(req.host, { isolation })
      const a = answers.find((x) => x.type === ResolvedType.IPV4 || x.type === ResolvedType.IPV6)
      if (!a) {
        stats.failures++
        conn.end(socks.reply('hostUnreachable'))
        return
      }
      const host = a.type === ResolvedType.IPV4 ? Array.from(a.value).join('.') : ipv6ToText(a.value)
      conn.end(socks.reply('succeeded', { host, port: 0 }))
    } catch (e) {
      stats.failures++
      conn.end(socks.reply(socksReplyFor(e)))
    }
    return
  }
  if (req.command !== 'connect') {
    conn.end(socks.reply('commandNotSupported'))
    return
  }
  try {
    const stream = await tor.connect(req.host, req.port, { isolation })
    conn.write(socks.reply('succeeded', { host: '0.0.0.0', port: 0 }))
    if (req.leftover.length) stream.write(req.leftover)
    pipeBoth(conn, stream)
    conn.resume()
  } catch (e) {
    stats.failures++
    world.trace('tor-socks-failed', { host: req.host, port: req.port, why: (e as Error).message })
    conn.end(socks.reply(socksReplyFor(e)))
  }
}


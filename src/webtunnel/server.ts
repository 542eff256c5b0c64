// The WebTunnel server, meant to sit behind a reverse proxy (nginx holds the real certificate and
// the secret path) or, with a path configured, to judge the path itself. Per connection:
//   1. read one request head (bounded, with a deadline);
//   2. not a WebTunnel upgrade → the ordinary nginx-style page (400 for a malformed head, 404
//      otherwise) and close: no tell-tale error, no connection to the bridge;
//   3. an upgrade → the official 101, then the bridge's Extended ORPort (SAFE_COOKIE, USERADDR
//      from X-Forwarded-For, TRANSPORT webtunnel, DONE, OKAY) or plain ORPort, then bytes both
//      ways, untouched: a client that frames its bytes as WebSocket gets them delivered framed,
//      and the bridge's link TLS refuses them — the server never "repairs" a stream.
//
// Pipelining: bytes that arrive in the same read as the request head are discarded, as the
// official Go server's discarded bufio.Reader does (notes/webtunnel.md §4). A conforming client
// sends nothing before the 101, so only a non-conforming one can notice.

import { NetError, type Conn, type Listener, type World } from '../net/world.js'
import { concatBytes, isTruncated, WireError } from '../wire/bytes.js'
import { ExtOrPortClient, formatUserAddr } from './ext-orport.js'
import { ordinaryResponse } from './ordinary-response.js'
import { checkUpgradeRequest, UPGRADE_RESPONSE } from './upgrade.js'

export interface BridgeTarget {
  host: string
  port: number
  /** Set when `port` is the Extended ORPort: returns the current cookie (tor rewrites the file at start-up). */
  extOrCookie?: (() => Promise<Uint8Array>) | undefined
}

export interface WebTunnelServerOptions {
  bridge: BridgeTarget
  /** Only this path is tunnelled (behind nginx the proxy already checks it; optional then). */
  path?: string | undefined
  /** Transport name sent in TRANSPORT. */
  transport?: string
  /** Deadline for the request head (default 15 s). */
  headTimeoutMs?: number
}

export type ServerOutcome =
  | { kind: 'tunnel'; clientAddress: string; pipelinedBytesDropped: number }
  | { kind: 'ordinary'; status: 400 | 404; reason: string }
  | { kind: 'bridge-failed'; reason: string }
  | { kind: 'closed'; reason: string }

/** Serves one accepted connection; resolves when its fate is decided (the copy goes on after). */
export function serveWebTunnel(world: World, conn: Conn, options: WebTunnelServerOptions): Promise<ServerOutcome> {
  // A reset before the bridge is connected must not become an unhandled 'error'.
  conn.on('error', () => conn.destroy())
  return new Promise((resolve) => {
    let buf: Uint8Array = new Uint8Array(0)
    let settled = false
    const finish = (o: ServerOutcome) => {
      if (settled) return
      settled = true
      timer.cancel()
      conn.off('data', onData)
      conn.off('end', onEnd)
      conn.off('error', onEnd)
      world.trace('webtunnel-server', { ...o })
      resolve(o)
    }
    const answer = (status: 400 | 404, reason: string) => {
      conn.end(ordinaryResponse(status, world.now()))
      finish({ kind: 'ordinary', status, reason })
    }
    const timer = world.setTimer(options.headTimeoutMs ?? 15_000, () => {
      conn.destroy()
      finish({ kind: 'closed', reason: 'no request head in time' })
    })
    const onData = (chunk: Buffer) => {
      buf = concatBytes(buf, chunk)
      let verdict
      try {
        verdict = checkUpgradeRequest(buf, { path: options.path })
      } catch (e) {
        if (isTruncated(e)) return
        if (!(e instanceof WireError)) throw e
        return answer(400, e.message)
      }
      if (verdict.kind === 'ordinary') return answer(404, verdict.reason)
      conn.pause()
      const clientAddress = formatUserAddr(verdict.forwardedFor ?? conn.remoteAddress ?? '0.0.0.0', verdict.forwardedFor ? 60000 : (conn.remotePort ?? 0))
      const dropped = buf.length - verdict.used
      if (dropped > 0) world.trace('webtunnel-pipelined-bytes-dropped', { bytes: dropped })
      conn.write(UPGRADE_RESPONSE)
      finish({ kind: 'tunnel', clientAddress, pipelinedBytesDropped: dropped })
      void connectBridge(world, options, clientAddress).then(
        (bridge) => splice(conn, bridge),
        (e: Error) => {
          world.trace('webtunnel-bridge-failed', { reason: e.message })
          conn.destroy()
        },
      )
    }
    const onEnd = () => finish({ kind: 'closed', reason: 'client went away before a complete head' })
    conn.on('data', onData)
    conn.once('end', onEnd)
    conn.once('error', onEnd)
  })
}

/** Connects to the bridge's ORPort, or authenticates on its ExtORPort; resolves with the OR stream. */
export async function connectBridge(world: World, options: WebTunnelServerOptions, clientAddress: string): Promise<Conn> {
  const { bridge } = options
  const conn = await world.net.connect(bridge.host, bridge.port)
  if (!bridge.extOrCookie) return conn
  let cookie: Uint8Array
  try {
    cookie = await bridge.extOrCookie()
  } catch (e) {
    conn.destroy()
    throw e
  }
  const engine = new ExtOrPortClient({ cookie, clientNonce: world.random(32), userAddr: clientAddress, transport: options.transport ?? 'webtunnel' })
  return new Promise<Conn>((resolve, reject) => {
    const fail = (e: Error) => {
      conn.off('data', onData)
      conn.destroy()
      reject(e)
    }
    const onData = (chunk: Buffer) => {
      for (const ev of engine.receive(chunk)) {
        if (ev.kind === 'send') conn.write(ev.bytes)
        else if (ev.kind === 'error') return fail(ev.error)
        else if (ev.kind === 'deny') return fail(new NetError('ECONNREFUSED', 'ExtORPort: tor said DENY'))
        else {
          conn.off('data', onData)
          conn.off('end', onEnd)
          conn.off('error', fail)
          conn.pause()
          if (ev.leftover.length > 0) conn.unshift(ev.leftover)
          return resolve(conn)
        }
      }
    }
    const onEnd = () => fail(new NetError('ECONNRESET', 'ExtORPort closed during authentication'))
    conn.on('data', onData)
    conn.once('end', onEnd)
    conn.once('error', fail)
  })
}

/** Copies both ways; a FIN is passed on as a FIN, an error tears down both sides. */
export function splice(a: Conn, b: Conn): void {
  const teardown = () => {
    a.destroy()
    b.destroy()
  }
  a.on('error', teardown)
  b.on('error', teardown)
  a.on('close', () => b.destroy())
  b.on('close', () => a.destroy())
  a.pipe(b)
  b.pipe(a)
  a.resume()
  b.resume()
}

/** Listens on host:port and serves every connection. */
export function listenWebTunnel(world: World, port: number, options: WebTunnelServerOptions, host = '127.0.0.1'): Promise<Listener> {
  return world.net.listen(port, (conn) => void serveWebTunnel(world, conn, options), host)
}

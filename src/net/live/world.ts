// The live World: node:net sockets, the real clock and timers, crypto.getRandomValues. Protocol code
// runs unchanged on it; only this file touches the outside world.

import { webcrypto } from 'node:crypto'
import * as net from 'node:net'
import { KeylogSink } from '../keylog.js'
import type { Conn, Listener, World } from '../world.js'
import { NetError } from '../world.js'

export interface LiveWorldOptions {
  /** Receives trace events (default: dropped). */
  trace?: (event: string, detail?: Record<string, unknown>) => void
  /** Collects TLS secrets; pass one to write an SSLKEYLOGFILE (sink.writeTo(path)). */
  keylog?: KeylogSink
}

function netError(err: unknown, what: string): NetError {
  const e = err as NodeJS.ErrnoException
  return new NetError(typeof e?.code === 'string' ? e.code : 'EIO', `${what}: ${e?.message ?? String(err)}`)
}

export function liveWorld(opts: LiveWorldOptions = {}): World {
  const trace = opts.trace ?? (() => {})
  const keylog = opts.keylog
  const world: World = {
    now: () => Date.now(),
    setTimer(ms, fn) {
      const t = setTimeout(fn, Math.max(0, ms))
      return { cancel: () => clearTimeout(t) }
    },
    random(n) {
      const out = new Uint8Array(n)
      // getRandomValues fills at most 65536 bytes per call.
      for (let i = 0; i < n; i += 65536) webcrypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)))
      return out
    },
    net: {
      connect(host, port) {
        return new Promise<Conn>((resolve, reject) => {
          const sock = net.connect({ host, port, allowHalfOpen: true })
          const onError = (err: Error) => {
            trace('connect-error', { host, port, code: (err as NodeJS.ErrnoException).code ?? null })
            reject(netError(err, `connect to ${host}:${port}`))
          }
          sock.once('error', onError)
          sock.once('connect', () => {
            sock.off('error', onError)
            trace('connect', { host, port, localPort: sock.localPort ?? null })
            resolve(sock)
          })
        })
      },
      listen(port, onConn, host = '127.0.0.1') {
        return new Promise<Listener>((resolve, reject) => {
          const server = net.createServer({ allowHalfOpen: true }, (sock) => {
            trace('accept', { port, remote: `${sock.remoteAddress}:${sock.remotePort}` })
            onConn(sock)
          })
          server.once('error', (err) => reject(netError(err, `listen on ${host}:${port}`)))
          server.listen(port, host, () => {
            const addr = server.address() as net.AddressInfo
            trace('listen', { host, port: addr.port })
            resolve({
              host,
              port: addr.port,
              close: () => new Promise<void>((r) => server.close(() => r())),
            })
          })
        })
      },
    },
    trace,
  }
  if (keylog) world.keylog = (line) => keylog.add(line)
  return world
}

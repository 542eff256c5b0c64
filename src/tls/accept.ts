// TLS server over any Conn. An unlistening tls.Server is handed the Duplex as a 'connection' (the
// documented way to serve a custom stream), which gives server-side features (SNI callback, session
// tickets, the server 'keylog' event) without a listening socket. The handshake deadline runs on
// the World's clock (tls.Server's own handshakeTimeout would use real timers, wrong in the sim).

import * as tls from 'node:tls'
import { NetError, type Conn, type World } from '../net/world.js'

export interface TlsServerOptions extends tls.TlsOptions {
  /** Give up on a client that has not finished the handshake after this long (default 30 s). */
  handshakeTimeoutMs?: number
}

/** Handshakes as a server over `conn`; resolves with the secure socket once the handshake completed. */
export function acceptTls(world: World, conn: Conn, options: TlsServerOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const { handshakeTimeoutMs = 30_000, ...tlsOptions } = options
    const server = tls.createServer(tlsOptions)
    const sink = world.keylog
    if (sink) server.on('keylog', (line: Buffer) => sink.call(world, line.toString('latin1')))
    let settled = false
    const fail = (err: Error) => {
      if (settled) return
      settled = true
      timer.cancel()
      conn.destroy()
      reject(err)
    }
    const timer = world.setTimer(handshakeTimeoutMs, () =>
      fail(new NetError('ETIMEDOUT', `TLS handshake not completed within ${handshakeTimeoutMs} ms`)),
    )
    server.once('tlsClientError', fail)
    // Sim conns are half-open and stay open when a client gives up mid-handshake: treat EOF or close
    // before the handshake finished as a failure. (A node:net socket's events move to the TLSSocket
    // that takes over its handle, so live, the deadline above is what catches this.)
    const early = () => fail(new NetError('ECONNRESET', 'peer closed before the TLS handshake completed'))
    conn.once('end', early)
    conn.once('close', early)
    server.once('secureConnection', (socket: tls.TLSSocket) => {
      if (settled) return socket.destroy()
      settled = true
      timer.cancel()
      conn.off('end', early)
      conn.off('close', early)
      world.trace('tls-server-secure', { protocol: socket.getProtocol(), cipher: socket.getCipher().standardName, alpn: socket.alpnProtocol || null })
      resolve(socket)
    })
    server.emit('connection', conn)
  })
}

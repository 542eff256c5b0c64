// TLS server over any Conn. An unlistening tls.Server is handed the Duplex as a 'connection' (the
// documented way to serve a custom stream), which gives server-side features (SNI callback, session
// tickets, the server 'keylog' event) without a listening socket.

import * as tls from 'node:tls'
import type { Conn, World } from '../net/world.js'

export type TlsServerOptions = tls.TlsOptions

/** Handshakes as a server over `conn`; resolves with the secure socket once the handshake completed. */
export function acceptTls(world: World, conn: Conn, options: TlsServerOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const server = tls.createServer(options)
    const sink = world.keylog
    if (sink) server.on('keylog', (line: Buffer) => sink.call(world, line.toString('latin1')))
    server.once('tlsClientError', (err: Error) => {
      conn.destroy()
      reject(err)
    })
    server.once('secureConnection', (socket: tls.TLSSocket) => {
      world.trace('tls-server-secure', { protocol: socket.getProtocol(), cipher: socket.getCipher().standardName, alpn: socket.alpnProtocol || null })
      resolve(socket)
    })
    server.emit('connection', conn)
  })
}

// TLS client over any Conn: node:tls (OpenSSL) runs over the Duplex, so the same code handshakes
// over a node:net socket live and over a virtual TCP connection in the simulator. Secrets go to the
// World's keylog sink.

import * as tls from 'node:tls'
import type { Conn, World } from '../net/world.js'
import { forwardKeylog } from './keylog.js'

export type TlsClientOptions = Omit<tls.ConnectionOptions, 'socket' | 'host' | 'port' | 'path'>

/** Handshakes as a client over `conn`; resolves once the handshake (and verification) succeeded. */
export function connectTls(world: World, conn: Conn, options: TlsClientOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ ...options, socket: conn })
    forwardKeylog(world, socket)
    const fail = (err: Error) => {
      socket.destroy()
      reject(err)
    }
    socket.once('error', fail)
    socket.once('secureConnect', () => {
      socket.off('error', fail)
      world.trace('tls-client-secure', { protocol: socket.getProtocol(), cipher: socket.getCipher().standardName, alpn: socket.alpnProtocol || null })
      resolve(socket)
    })
  })
}

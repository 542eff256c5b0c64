// The PT client's SOCKS listener: tor CONNECTs to the bridge line's (placeholder) address with the
// bridge arguments in the SOCKS5 username/password; we ignore the address, dial the url from the
// arguments through WebTunnel, reply, and splice. Used by the managed client and standalone mode.

import { NetError, type Conn, type Listener, type World } from '../../net/world.js'
import { SocksServerHandshake } from '../../wire/socks/index.js'
import { WireError } from '../../wire/bytes.js'
import { clientConfigFromArgs } from '../client-config.js'
import { dialWebTunnel, type WebTunnelDialOptions } from '../client.js'
import { splice } from '../server.js'
import { socksArgsFromCredentials, type PtArgs } from './args.js'

export interface SocksFrontOptions extends WebTunnelDialOptions {
  /** Arguments used when the SOCKS request carries none (standalone use with a fixed bridge). */
  defaultArgs?: PtArgs | undefined
  /** Reports problems (the managed driver turns them into LOG lines). */
  log?: (message: string) => void
}

export function listenSocksFront(world: World, port: number, options: SocksFrontOptions, host = '127.0.0.1'): Promise<Listener> {
  return world.net.listen(port, (conn) => void serveSocks(world, conn, options), host)
}

async function serveSocks(world: World, conn: Conn, options: SocksFrontOptions): Promise<void> {
  const log = options.log ?? (() => {})
  conn.on('error', () => conn.destroy())
  const hs = new SocksServerHandshake({ methods: ['username-password', 'no-auth'], credentials: 'accept-any' })
  const onData = (chunk: Buffer) => {
    for (const ev of hs.receive(chunk)) {
      if (ev.kind === 'send') conn.write(ev.bytes)
      else if (ev.kind === 'error') {
        conn.end(ev.reply)
        conn.off('data', onData)
        return
      } else {
        conn.off('data', onData)
        conn.pause()
        if (ev.command !== 'connect') {
          conn.end(hs.reply('commandNotSupported'))
          return
        }
        void connect(ev.username, ev.password, ev.leftover)
        return
      }
    }
  }
  const connect = async (username: string | undefined, password: string | undefined, leftover: Uint8Array) => {
    let args: PtArgs
    try {
      args = username !== undefined ? socksArgsFromCredentials(username, password) : (options.defaultArgs ?? [])
      if (args.length === 0 && options.defaultArgs) args = options.defaultArgs
      const tunnel = await dialWebTunnel(world, clientConfigFromArgs(args), options)
      conn.write(hs.reply('succeeded', { host: '0.0.0.0', port: 0 }))
      if (leftover.length > 0) tunnel.write(leftover)
      splice(conn, tunnel as Conn)
    } catch (e) {
      const code = e instanceof NetError && e.code === 'ECONNREFUSED' ? 'connectionRefused' : e instanceof WireError ? 'notAllowed' : 'generalFailure'
      log(`webtunnel connect failed: ${(e as Error).message}`)
      conn.end(hs.reply(code))
    }
  }
  conn.on('data', onData)
}

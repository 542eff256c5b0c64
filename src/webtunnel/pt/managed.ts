// The managed-proxy dialogue for both sides (pt-spec.txt §3): read the TOR_PT_* environment,
// start listeners, print VERSION / CMETHOD / SMETHOD lines, DONE. Exiting on stdin close is the
// CLI's job (it owns the process); these only say whether it was asked for.

import type { Listener, World } from '../../net/world.js'
import { bridgeArg } from '../bridge-line.js'
import { parseExtOrCookieFile } from '../ext-orport.js'
import { placeholderAddress } from '../placeholder-address.js'
import { listenWebTunnel, type BridgeTarget } from '../server.js'
import type { PtArgs } from './args.js'
import { parseClientEnv, parseServerEnv, PtEnvError, serverTransportOptions, wants, type Env } from './env.js'
import * as line from './lines.js'
import { listenSocksFront, type SocksFrontOptions } from './socks-front.js'

export const TRANSPORT = 'webtunnel'

export interface ManagedResult {
  listeners: Listener[]
  exitOnStdinClose: boolean
  /** False when nothing could be started (the process should exit after printing). */
  ok: boolean
}

/** Managed client: one SOCKS listener on 127.0.0.1 for "webtunnel". */
export async function runManagedClient(world: World, env: Env, out: (line: string) => void, options: SocksFrontOptions = {}): Promise<ManagedResult> {
  let penv
  try {
    penv = parseClientEnv(env)
  } catch (e) {
    if (e instanceof PtEnvError) {
      out(e.line)
      return { listeners: [], exitOnStdinClose: false, ok: false }
    }
    throw e
  }
  out(line.VERSION())
  if (penv.proxy !== undefined) {
    // Like the official client: an upstream proxy is not supported.
    out(line.PROXY_ERROR('proxy is not supported'))
    return { listeners: [], exitOnStdinClose: penv.exitOnStdinClose, ok: false }
  }
  const listeners: Listener[] = []
  for (const t of penv.transports) {
    if (t !== TRANSPORT && t !== '*') out(line.CMETHOD_ERROR(t, 'no such method'))
  }
  if (wants(penv.transports, TRANSPORT)) {
    const l = await listenSocksFront(world, 0, { ...options, log: (m) => out(line.LOG('warning', m)) })
    listeners.push(l)
    out(line.CMETHOD(TRANSPORT, l.host, l.port))
  }
  out(line.CMETHODS_DONE())
  return { listeners, exitOnStdinClose: penv.exitOnStdinClose, ok: listeners.length > 0 }
}

export interface ManagedServerOptions {
  /** Reads TOR_PT_AUTH_COOKIE_FILE (the CLI passes an fs read; tor rewrites it at start-up). */
  readCookieFile: (path: string) => Promise<Uint8Array>
  /** Value for ver= in the SMETHOD arguments. */
  version: string
}

/** Managed server: listens where tor says, reports the placeholder address and url/ver args. */
export async function runManagedServer(world: World, env: Env, out: (line: string) => void, options: ManagedServerOptions): Promise<ManagedResult> {
  let penv
  try {
    penv = parseServerEnv(env)
  } catch (e) {
    if (e instanceof PtEnvError) {
      out(e.line)
      return { listeners: [], exitOnStdinClose: false, ok: false }
    }
    throw e
  }
  out(line.VERSION())
  const listeners: Listener[] = []
  for (const t of penv.transports) {
    if (t !== TRANSPORT && t !== '*') out(line.SMETHOD_ERROR(t, 'no such method'))
  }
  if (wants(penv.transports, TRANSPORT)) {
    try {
      const opts: PtArgs = serverTransportOptions(penv, TRANSPORT)
      const url = bridgeArg(opts, 'url')
      if (url === undefined) throw new PtEnvError(line.SMETHOD_ERROR(TRANSPORT, 'missing url parameter'))
      const cookieFile = penv.authCookieFile
      const bridge: BridgeTarget = penv.extendedServerPort
        ? { ...penv.extendedServerPort, extOrCookie: async () => parseExtOrCookieFile(await options.readCookieFile(cookieFile!)) }
        : penv.orport!
      const bind = penv.bindaddrs.get(TRANSPORT) ?? { host: '127.0.0.1', port: 0 }
      const l = await listenWebTunnel(world, bind.port, { bridge, transport: TRANSPORT }, bind.host)
      listeners.push(l)
      // Like the official server: the reported address is the url's 2001:db8 placeholder.
      out(line.SMETHOD(TRANSPORT, placeholderAddress(url), 443, [...opts, ['ver', options.version]]))
    } catch (e) {
      if (e instanceof PtEnvError) out(e.line)
      else out(line.SMETHOD_ERROR(TRANSPORT, (e as Error).message))
    }
  }
  out(line.SMETHODS_DONE())
  return { listeners, exitOnStdinClose: penv.exitOnStdinClose, ok: listeners.length > 0 }
}

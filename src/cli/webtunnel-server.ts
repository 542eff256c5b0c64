// `sultry webtunnel-server`: the WebTunnel PT server, behind a reverse proxy. Run by tor
// (ServerTransportPlugin webtunnel exec …) it speaks the managed-proxy protocol; run by hand it
// takes its bridge (ORPort or ExtORPort + cookie) from flags. Thin: the work is in src/webtunnel/.

import { readFile } from 'node:fs/promises'
import { UsageError, type Command, type CommandSpec } from './args.js'
import { liveWorld } from '../net/live/world.js'
import { formatBridgeLine } from '../webtunnel/bridge-line.js'
import { parseExtOrCookieFile } from '../webtunnel/ext-orport.js'
import { placeholderAddress } from '../webtunnel/placeholder-address.js'
import { runManagedServer } from '../webtunnel/pt/managed.js'
import { parseAddrPort } from '../webtunnel/pt/env.js'
import { listenWebTunnel, type BridgeTarget } from '../webtunnel/server.js'

export const SERVER_VERSION = 'sultry-0.1.0'

/** pt-spec: with TOR_PT_EXIT_ON_STDIN_CLOSE=1, EOF on stdin means "tor is gone: exit". */
export function exitOnStdinClose(): void {
  process.stdin.on('end', () => process.exit(0))
  process.stdin.on('close', () => process.exit(0))
  process.stdin.resume()
}

const spec: CommandSpec = {
  name: 'webtunnel-server',
  summary: 'WebTunnel pluggable-transport server behind nginx: managed by tor, or standalone',
  usage: 'sultry webtunnel-server   (managed: started by tor)\n       sultry webtunnel-server --listen 127.0.0.1:PORT (--orport ADDR:PORT | --ext-orport ADDR:PORT --cookie FILE) [--path /SECRET] [--url URL --fingerprint FP]',
  flags: [
    { name: 'listen', type: 'string', value: 'ADDR:PORT', help: 'standalone: where nginx proxies the secret path to' },
    { name: 'orport', type: 'string', value: 'ADDR:PORT', help: "standalone: the bridge's plain ORPort" },
    { name: 'ext-orport', type: 'string', value: 'ADDR:PORT', help: "standalone: the bridge's Extended ORPort (needs --cookie)" },
    { name: 'cookie', type: 'string', value: 'FILE', help: 'standalone: the ExtORPort auth cookie file (extended_orport_auth_cookie)' },
    { name: 'path', type: 'string', value: '/SECRET', help: 'only tunnel requests for this path (when not behind a proxy that checks it)' },
    { name: 'url', type: 'string', value: 'URL', help: 'print the bridge line for this url (with --fingerprint)' },
    { name: 'fingerprint', type: 'string', value: 'FP', help: "the bridge's fingerprint, for the printed bridge line" },
  ],
  details: `Managed mode is chosen when TOR_PT_MANAGED_TRANSPORT_VER is set: it listens on
TOR_PT_SERVER_BINDADDR, needs url= in TOR_PT_SERVER_TRANSPORT_OPTIONS, uses the ExtORPort
(TOR_PT_EXTENDED_SERVER_PORT + TOR_PT_AUTH_COOKIE_FILE) or TOR_PT_ORPORT, and prints
SMETHOD webtunnel [2001:db8:…]:443 ARGS:url=…,ver=${SERVER_VERSION}.
torrc:  ServerTransportPlugin webtunnel exec /path/to/sultry webtunnel-server
        ServerTransportListenAddr webtunnel 127.0.0.1:11000
        ServerTransportOptions webtunnel url=https://host/SECRET
        ExtORPort auto
Anything that is not a WebTunnel upgrade gets an ordinary nginx-style 404 (or 400) page.`,
}

const command: Command = {
  spec,
  async run(args) {
    const world = liveWorld()
    const readCookie = async (path: string) => new Uint8Array(await readFile(path))
    if (process.env.TOR_PT_MANAGED_TRANSPORT_VER !== undefined) {
      const r = await runManagedServer(world, process.env, (l) => process.stdout.write(`${l}\n`), { readCookieFile: readCookie, version: SERVER_VERSION })
      if (!r.ok) return 1
      if (r.exitOnStdinClose) exitOnStdinClose()
      return new Promise<number>(() => {})
    }
    const f = args.flags
    if (typeof f.listen !== 'string') throw new UsageError('standalone mode needs --listen (or run me from tor)')
    let bridge: BridgeTarget
    if (typeof f['ext-orport'] === 'string') {
      if (typeof f.cookie !== 'string') throw new UsageError('--ext-orport needs --cookie')
      const cookieFile = f.cookie
      bridge = { ...parseAddrPort(f['ext-orport'], '--ext-orport'), extOrCookie: async () => parseExtOrCookieFile(await readCookie(cookieFile)) }
    } else if (typeof f.orport === 'string') {
      bridge = parseAddrPort(f.orport, '--orport')
    } else throw new UsageError('needs --orport or --ext-orport')
    const at = parseAddrPort(f.listen, '--listen')
    const l = await listenWebTunnel(world, at.port, { bridge, path: typeof f.path === 'string' ? f.path : undefined }, at.host)
    process.stderr.write(`webtunnel-server: listening on ${l.host}:${l.port}\n`)
    if (typeof f.url === 'string' && typeof f.fingerprint === 'string') {
      const line = formatBridgeLine({ transport: 'webtunnel', address: placeholderAddress(f.url), port: 443, fingerprint: f.fingerprint, args: [['url', f.url], ['ver', SERVER_VERSION]] })
      process.stdout.write(`${line}\n`)
    }
    return new Promise<number>(() => {})
  },
}

export default command

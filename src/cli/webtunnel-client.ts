// `sultry webtunnel-client`: the WebTunnel PT client. Run by tor (ClientTransportPlugin webtunnel
// exec …) it speaks the managed-proxy protocol; run by hand it is a SOCKS5 front for one bridge.
// Thin: the work is in src/webtunnel/.

import { readFileSync } from 'node:fs'
import { UsageError, type Command, type CommandSpec } from './args.js'
import { liveWorld } from '../net/live/world.js'
import { parseBridgeLine } from '../webtunnel/bridge-line.js'
import { clientConfigFromArgs } from '../webtunnel/client-config.js'
import { runManagedClient } from '../webtunnel/pt/managed.js'
import { listenSocksFront } from '../webtunnel/pt/socks-front.js'
import { parseAddrPort } from '../webtunnel/pt/env.js'
import type { PtArgs } from '../webtunnel/pt/args.js'
import { exitOnStdinClose } from './webtunnel-server.js'

const spec: CommandSpec = {
  name: 'webtunnel-client',
  summary: 'WebTunnel pluggable-transport client: managed by tor, or a standalone SOCKS5 front',
  usage: 'sultry webtunnel-client [--ca FILE]   (managed: started by tor)\n       sultry webtunnel-client --listen 127.0.0.1:PORT (--bridge LINE | --url URL [--servername NAME] [--cert PIN]) [--ca FILE]',
  flags: [
    { name: 'ca', type: 'string', value: 'FILE', help: 'trust the PEM CA certificate(s) in FILE for the outer TLS (the lab CA)' },
    { name: 'listen', type: 'string', value: 'ADDR:PORT', help: 'standalone: SOCKS5 listen address (127.0.0.1 only unless you mean it)' },
    { name: 'bridge', type: 'string', value: 'LINE', help: 'standalone: a "webtunnel [2001:db8::…]:443 FP url=…" bridge line' },
    { name: 'url', type: 'string', value: 'URL', help: 'standalone: the WebTunnel url (instead of --bridge)' },
    { name: 'servername', type: 'string', value: 'NAME', help: 'standalone: TLS SNI override' },
    { name: 'cert', type: 'string', value: 'PIN', help: 'standalone: base64 SHA-256 pin of the server certificate chain (lyrebird cert=)' },
  ],
  details: `Managed mode is chosen when TOR_PT_MANAGED_TRANSPORT_VER is set (pt-spec.txt): it prints
VERSION 1, CMETHOD webtunnel socks5 127.0.0.1:PORT, CMETHODS DONE, takes each bridge's arguments
from the SOCKS5 username/password, and exits when stdin closes if TOR_PT_EXIT_ON_STDIN_CLOSE=1.
torrc:  ClientTransportPlugin webtunnel exec /path/to/sultry webtunnel-client
        Bridge webtunnel [2001:db8::…]:443 FINGERPRINT url=https://host/path`,
}

const command: Command = {
  spec,
  async run(args) {
    const ca = typeof args.flags.ca === 'string' ? readFileSync(args.flags.ca, 'utf8') : undefined
    const world = liveWorld()
    if (process.env.TOR_PT_MANAGED_TRANSPORT_VER !== undefined) {
      const r = await runManagedClient(world, process.env, (l) => process.stdout.write(`${l}\n`), { ca })
      if (!r.ok) return 1
      if (r.exitOnStdinClose) exitOnStdinClose()
      return new Promise<number>(() => {})
    }
    if (typeof args.flags.listen !== 'string') throw new UsageError('standalone mode needs --listen (or run me from tor)')
    let bridgeArgs: PtArgs
    if (typeof args.flags.bridge === 'string') bridgeArgs = parseBridgeLine(args.flags.bridge).args
    else if (typeof args.flags.url === 'string') bridgeArgs = [['url', args.flags.url]]
    else throw new UsageError('standalone mode needs --bridge or --url')
    if (typeof args.flags.servername === 'string') bridgeArgs.push(['servername', args.flags.servername])
    if (typeof args.flags.cert === 'string') bridgeArgs.push(['cert', args.flags.cert])
    clientConfigFromArgs(bridgeArgs)
    const at = parseAddrPort(args.flags.listen, '--listen')
    const l = await listenSocksFront(world, at.port, { ca, defaultArgs: bridgeArgs, log: (m) => process.stderr.write(`${m}\n`) }, at.host)
    process.stderr.write(`webtunnel-client: SOCKS5 on ${l.host}:${l.port}\n`)
    return new Promise<number>(() => {})
  },
}

export default command

// `sultry tor`: the from-scratch Tor client behind a local SOCKS5/SOCKS4a/HTTP CONNECT port.
// Thin: the work is in src/tor/client.ts and src/tor/socks-front.ts.

import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { liveWorld } from '../net/live/world.js'
import { TorClient } from '../tor/client.js'
import { startSocksFront } from '../tor/socks-front.js'
import { bridgesWithTransports } from '../webtunnel/tor-world.js'
import { UsageError, type Command, type CommandSpec } from './args.js'

const spec: CommandSpec = {
  name: 'tor',
  summary: 'Tor client (link, ntor, relay crypto, SENDME v1, directory, paths) behind a local SOCKS5 / HTTP CONNECT proxy',
  usage: 'sultry tor --socks 127.0.0.1:9050 (--dir-authority LINE ... | --testnet DIR) [--bridge LINE] [--cache DIR]',
  flags: [
    { name: 'socks', type: 'string', value: 'HOST:PORT', help: 'where to listen for SOCKS5, SOCKS4a and HTTP CONNECT', default: '127.0.0.1:9050' },
    { name: 'dir-authority', type: 'list', value: 'LINE', help: 'a torrc DirAuthority line, e.g. "a0 orport=20000 no-v2 v3ident=HEX 127.0.0.1:20020 FP" (repeat)' },
    { name: 'testnet', type: 'string', value: 'DIR', help: 'use the private network lab/tor-testnet started in DIR (its network.json); implies test-network path rules' },
    { name: 'bridge', type: 'list', value: 'LINE', help: 'a bridge line to use as first hop (repeat): "IP:PORT FINGERPRINT", or "webtunnel [2001:db8::…]:443 FINGERPRINT url=… [servername=…] [cert=…]"' },
    { name: 'ca', type: 'string', value: 'FILE', help: "PEM CA for a webtunnel bridge's HTTPS front (default: the system roots; cert= in the line pins instead)" },
    { name: 'cache', type: 'string', value: 'DIR', help: 'state directory: the directory cache (reused while the consensus is valid, rewritten at each refresh) and guards.json, the entry guards kept across runs (default: see below)' },
    { name: 'no-cache', type: 'bool', help: 'keep nothing on disk: fetch the directory and choose new guards on every start' },
  ],
  details: `Bootstrap progress goes to stderr as "Bootstrapped N% (phase)". After bootstrap the client
fetches each next consensus when dir-spec §5.1 says (a random time after fresh-until, well before
valid-until) from its guard or bridge, asking only for microdescriptors it lacks, and says so on
stderr ("sultry tor: directory: ..."); --cache keeps the latest. SOCKS username/password are
stream isolation keys: different credentials never share a circuit. There are no built-in public
authorities: give --dir-authority lines or --testnet.

Status: kill -USR1 <pid> prints one line (consensus times and next fetch, guards, circuits, streams).

State: without --cache, a --testnet client keeps its state in DIR/sultry-tor-cache, any other in
$XDG_CACHE_HOME/sultry/tor-<hash of the authority set> (~/.cache when XDG_CACHE_HOME is unset), so
two networks never share guards or directory documents. Keeping guards across runs is what makes
them guards (guard-spec); --no-cache gives that up.`,
}

/** Where a client keeps its state when --cache is not given: one directory per authority set. */
export function defaultStateDir(authorities: string[], testnet: string | undefined, env = process.env): string {
  if (testnet) return join(testnet, 'sultry-tor-cache')
  const set = createHash('sha256').update([...authorities].map((a) => a.trim()).sort().join('\n')).digest('hex').slice(0, 12)
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'sultry', `tor-${set}`)
}

const command: Command = {
  spec,
  async run(args) {
    let authorities = (args.flags['dir-authority'] as string[] | undefined) ?? []
    let testing = false
    const testnet = args.flags['testnet'] as string | undefined
    if (testnet) {
      const file = join(testnet, 'network.json')
      if (!existsSync(file)) throw new UsageError(`--testnet ${testnet}: no network.json (start it with lab/tor-testnet/run.ts)`)
      authorities = [...authorities, ...(JSON.parse(readFileSync(file, 'utf8')).authorities as string[])]
      testing = true
    }
    if (authorities.length === 0) throw new UsageError('need --dir-authority lines or --testnet DIR')
    const m = /^(.+):(\d+)$/.exec(String(args.flags['socks']))
    if (!m) throw new UsageError('--socks wants HOST:PORT')
    const caFile = args.flags['ca'] as string | undefined
    const bridgeLines = (args.flags['bridge'] as string[] | undefined) ?? []
    let world = liveWorld()
    let bridges: string[] | undefined
    if (bridgeLines.length) {
      try {
        ;({ world, bridges } = bridgesWithTransports(world, bridgeLines, { ca: caFile ? readFileSync(caFile) : undefined }))
      } catch (e) {
        throw new UsageError(`--bridge: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
    const cacheDir = args.flags['no-cache'] ? undefined : ((args.flags['cache'] as string | undefined) ?? defaultStateDir(authorities, testnet))
    process.stderr.write(`sultry tor: ${cacheDir ? `state in ${cacheDir}` : 'no state kept on disk (--no-cache)'}\n`)
    const started = Date.now()
    const tor = await TorClient.create(world, {
      authorities,
      bridges,
      cacheDir,
      testingNetwork: testing,
      progress: (p, phase) => process.stderr.write(`Bootstrapped ${p}% (${phase}) [${Date.now() - started} ms]\n`),
      notice: (line) => process.stderr.write(`sultry tor: ${line}\n`),
    })
    const front = await startSocksFront(world, tor, Number(m[2]), m[1])
    process.stderr.write(`sultry tor: SOCKS5 / SOCKS4a / HTTP CONNECT on ${front.host}:${front.port}\n`)
    const status = () => process.stderr.write(`sultry tor: ${tor.statusLine()}\n`)
    process.on('SIGUSR1', status)
    await new Promise<void>((resolve) => {
      const stop = () => resolve()
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
    process.off('SIGUSR1', status)
    await front.close()
    await tor.close()
    return 0
  },
}

export default command

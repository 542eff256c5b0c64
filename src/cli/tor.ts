// `sultry tor`: the from-scratch Tor client behind a local SOCKS5/SOCKS4a/HTTP CONNECT port.
// Thin: the work is in src/tor/client.ts and src/tor/socks-front.ts.

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { liveWorld } from '../net/live/world.js'
import { TorClient } from '../tor/client.js'
import { startSocksFront } from '../tor/socks-front.js'
import { UsageError, type Command, type CommandSpec } from './args.js'

const spec: CommandSpec = {
  name: 'tor',
  summary: 'Tor client (link, ntor, relay crypto, SENDME v1, directory, paths) behind a local SOCKS5 / HTTP CONNECT proxy',
  usage: 'sultry tor --socks 127.0.0.1:9050 (--dir-authority LINE ... | --testnet DIR) [--bridge LINE] [--cache DIR]',
  flags: [
    { name: 'socks', type: 'string', value: 'HOST:PORT', help: 'where to listen for SOCKS5, SOCKS4a and HTTP CONNECT', default: '127.0.0.1:9050' },
    { name: 'dir-authority', type: 'list', value: 'LINE', help: 'a torrc DirAuthority line, e.g. "a0 orport=20000 no-v2 v3ident=HEX 127.0.0.1:20020 FP" (repeat)' },
    { name: 'testnet', type: 'string', value: 'DIR', help: 'use the private network lab/tor-testnet started in DIR (its network.json); implies test-network path rules' },
    { name: 'bridge', type: 'list', value: 'LINE', help: 'a bridge line "IP:PORT FINGERPRINT" to use as first hop (repeat)' },
    { name: 'cache', type: 'string', value: 'DIR', help: 'directory cache; reused while the consensus is valid' },
  ],
  details: `Bootstrap progress goes to stderr as "Bootstrapped N% (phase)". SOCKS username/password are
stream isolation keys: different credentials never share a circuit. There are no built-in public
authorities: give --dir-authority lines or --testnet.`,
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
    const world = liveWorld()
    const started = Date.now()
    const tor = await TorClient.create(world, {
      authorities,
      bridges: args.flags['bridge'] as string[] | undefined,
      cacheDir: args.flags['cache'] as string | undefined,
      testingNetwork: testing,
      progress: (p, phase) => process.stderr.write(`Bootstrapped ${p}% (${phase}) [${Date.now() - started} ms]\n`),
    })
    const front = await startSocksFront(world, tor, Number(m[2]), m[1])
    process.stderr.write(`sultry tor: SOCKS5 / SOCKS4a / HTTP CONNECT on ${front.host}:${front.port}\n`)
    await new Promise<void>((resolve) => {
      const stop = () => resolve()
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
    await front.close()
    await tor.close()
    return 0
  },
}

export default command

// `sultry oob-server`: the OOB helper (docs/oob-protocol.md). Thin: reads files, builds the live
// World and node:dns lookups, runs OobServer, prints the certificate pin clients need.

import { execFileSync } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { lookup } from 'node:dns/promises'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { liveWorld } from '../net/live/world.js'
import { parseKeyFile } from '../proxy/oob/auth.js'
import { OobServer } from '../proxy/oob/server.js'
import { parseHostMap } from '../proxy/resolver.js'
import type { Command, CommandSpec, ParsedArgs } from './args.js'
import { UsageError } from './args.js'
import { parseListen } from './proxy.js'

const spec: CommandSpec = {
  name: 'oob-server',
  summary: 'run the OOB helper that sultry proxy reaches for oob-relay / oob-resolve',
  usage: 'sultry oob-server --listen ADDR --key FILE [--cert F --key-file F] [--allow-private]',
  flags: [
    { name: 'listen', type: 'string', value: 'ADDR', help: 'address to listen on, HOST:PORT', default: '0.0.0.0:8443' },
    { name: 'key', type: 'string', value: 'FILE', help: 'pre-shared key file (raw, or hex/base64 text; ≥ 16 bytes; e.g. openssl rand -hex 32 > FILE)' },
    { name: 'cert', type: 'string', value: 'FILE', help: 'TLS certificate (PEM); default: a fresh self-signed one, pin printed at start' },
    { name: 'key-file', type: 'string', value: 'FILE', help: 'TLS private key (PEM) for --cert' },
    { name: 'allow-private', type: 'bool', help: 'allow private/loopback/link-local targets (lab only)' },
    { name: 'max-streams', type: 'int', value: 'N', help: 'concurrent streams per client session', default: 256 },
    { name: 'max-bytes', type: 'int', value: 'N', help: 'relayed bytes per client session (0 = unlimited)', default: 0 },
    { name: 'idle', type: 'int', value: 'SECONDS', help: 'close sessions idle this long', default: 300 },
    { name: 'map', type: 'list', value: 'NAME=IP', help: 'answer NAME with IP instead of DNS (lab use; repeatable)' },
    { name: 'quiet', type: 'bool', help: 'no per-session log lines' },
  ],
  details: `
Clients authenticate with the pre-shared key (HMAC challenge-response, fresh nonces per connection)
and pin this server's certificate: the SHA-256 printed at start ("pin: ...").
Targets that resolve to private, loopback or link-local addresses are refused unless --allow-private.`,
}

function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sultry-oob-'))
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '3650', '-subj', '/CN=sultry-oob', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' })
    return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function run(args: ParsedArgs): Promise<number> {
  const f = args.flags
  if (!f.key) throw new UsageError('--key FILE is required')
  if (Boolean(f.cert) !== Boolean(f['key-file'])) throw new UsageError('--cert and --key-file go together')
  const psk = parseKeyFile(new Uint8Array(readFileSync(String(f.key))))
  const tls = f.cert ? { cert: readFileSync(String(f.cert), 'utf8'), key: readFileSync(String(f['key-file']), 'utf8') } : selfSigned()
  const map = parseHostMap((f.map as string[] | undefined) ?? [])
  const { host, port } = parseListen(String(f.listen))
  const quiet = Boolean(f.quiet)
  const world = liveWorld()
  const server = new OobServer(world, {
    key: psk,
    tlsKey: tls.key,
    tlsCert: tls.cert,
    allowPrivate: Boolean(f['allow-private']),
    maxStreams: Number(f['max-streams']),
    maxBytesPerSession: Number(f['max-bytes']) > 0 ? Number(f['max-bytes']) : undefined,
    idleMs: Number(f.idle) * 1000,
    lookup: async (name) => {
      const m = map.get(name.toLowerCase())
      if (m) return [m]
      return (await lookup(name, { all: true })).map((a) => a.address)
    },
    log: quiet ? undefined : (line) => process.stderr.write(`oob-server: ${line}\n`),
  })
  const l = await server.listen(port, host)
  const pin = createHash('sha256').update(new X509Certificate(tls.cert).raw).digest('hex')
  process.stdout.write(`oob-server listening on ${l.host}:${l.port}\npin: ${pin}\n`)
  process.on('SIGUSR1', () => process.stderr.write(`oob-server: ${JSON.stringify({ ...server.stats, active: server.activeSessions })}\n`))
  await new Promise<void>((resolve) => {
    const stop = () => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await server.close()
  return 0
}

const command: Command = { spec, run }
export default command

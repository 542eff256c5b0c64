// `sultry proxy`: the SNI-concealing proxy. Thin: parses flags, reads files, builds the live
// World, the resolvers (node:dns only with --resolve-locally), the OOB client, the planner and its
// state file, and starts ProxyFront. Status: SIGUSR1 prints one line to stderr; --status serves
// GET /status on the proxy port.

import { lookup } from 'node:dns/promises'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { liveWorld } from '../net/live/world.js'
import type { World } from '../net/world.js'
import { ProxyFront } from '../proxy/front.js'
import { parseKeyFile } from '../proxy/oob/auth.js'
import { OobClient } from '../proxy/oob/client.js'
import { DEFAULT_ORDER, Planner } from '../proxy/planner.js'
import { parseHostMap, policyResolver } from '../proxy/resolver.js'
import { strategies } from '../proxy/strategies/index.js'
import { isStrategyName } from '../proxy/strategy.js'
import type { StrategyChoice } from '../proxy/tunnel.js'
import { STALL_DEFAULTS, type StallOptions } from '../proxy/stall-detector.js'
import { VerdictStore } from '../proxy/verdict-store.js'
import type { Command, CommandSpec, ParsedArgs } from './args.js'
import { UsageError } from './args.js'

export const proxySpec: CommandSpec = {
  name: 'proxy',
  summary: 'local HTTP CONNECT + SOCKS5 proxy that gets TLS past SNI censorship',
  usage: 'sultry proxy --listen 127.0.0.1:8080 [--strategy S | --strategy-for HOST=S ...] [--oob HOST:PORT --oob-key FILE --oob-cover-sni NAME --oob-pin SHA256] [--state FILE] [--resolve-locally] [--non-tls pass|refuse]',
  flags: [
    { name: 'listen', type: 'string', value: 'HOST:PORT', help: 'where to listen (HTTP CONNECT and SOCKS5 on one port)', default: '127.0.0.1:8080' },
    { name: 'strategy', type: 'string', value: 'S', help: 'auto, direct, tcp-split, record-split, oob-resolve, oob-relay', default: 'auto' },
    { name: 'strategy-for', type: 'list', value: 'HOST=S', help: 'strategy for one host (repeatable; overrides --strategy)' },
    { name: 'oob', type: 'string', value: 'HOST:PORT', help: 'the OOB helper (sultry oob-server); oob://HOST:PORT also accepted' },
    { name: 'oob-key', type: 'string', value: 'FILE', help: 'pre-shared key file for the helper' },
    { name: 'oob-cover-sni', type: 'string', value: 'NAME', help: 'SNI to send to the helper (any unblocked name)', default: 'www.example.com' },
    { name: 'oob-pin', type: 'string', value: 'SHA256', help: "SHA-256 of the helper's certificate (printed by oob-server)" },
    { name: 'oob-ca', type: 'string', value: 'FILE', help: 'CA (PEM) for the helper certificate, instead of a pin' },
    { name: 'state', type: 'string', value: 'FILE', help: 'where auto remembers per-host verdicts (JSON)' },
    { name: 'ttl', type: 'int', value: 'SECONDS', help: 'how long a verdict is trusted', default: 21600 },
    { name: 'attempt-timeout', type: 'int', value: 'MS', help: 'auto: bound on connect + ServerHello per attempt', default: 5000 },
    { name: 'resolve-locally', type: 'bool', help: 'allow the local system resolver for target names' },
    { name: 'map', type: 'list', value: 'NAME=IP', help: 'resolve NAME to IP without DNS (repeatable)' },
    { name: 'non-tls', type: 'string', value: 'pass|refuse', help: 'what to do with tunnels that do not start with a ClientHello', default: 'pass' },
    { name: 'split-at', type: 'string', value: 'N,N..', help: 'tcp-split cut offsets into the first flight (default: inside the SNI)' },
    { name: 'split-gap', type: 'int', value: 'MS', help: 'tcp-split pause between pieces', default: 10 },
    { name: 'record-split-at', type: 'string', value: 'N,N..', help: 'record-split cut offsets into the handshake message (default: inside the SNI)' },
    { name: 'stall-mid-record', type: 'int', value: 'MS', help: 'auto: silence inside a server TLS record that counts as a censor freeze', default: STALL_DEFAULTS.midRecordMs },
    { name: 'stall-unanswered', type: 'int', value: 'MS', help: "auto: silence after the client's first request that counts as a freeze", default: STALL_DEFAULTS.unansweredMs },
    { name: 'stall-window', type: 'int', value: 'BYTES', help: 'auto: watch only the first BYTES the server sends', default: STALL_DEFAULTS.windowBytes },
    { name: 'no-stall-watch', type: 'bool', help: 'auto: judge strategies by the handshake only (no throttle detection)' },
    { name: 'status', type: 'bool', help: 'serve GET /status (JSON) on the proxy port' },
    { name: 'quiet', type: 'bool', help: 'no per-connection log lines' },
  ],
  details: `
Name resolution: the local resolver is the one a censor poisons, so it is used only with
--resolve-locally. Otherwise, in order: IP literals as is; --map entries; the OOB helper (when --oob
is given); else the tunnel is refused with "cannot resolve" (HTTP 502 / SOCKS host unreachable).
oob-relay and oob-resolve always let the helper resolve.

Throttling: with auto, a tunnel whose server bytes stop inside a TLS record (or whose first request
gets no answer) for max(bound, ${STALL_DEFAULTS.gapFactor}x the longest earlier wait), after the handshake got through, is
judged "throttled on <strategy>"; the host's next connection tries the next strategy. Raise the
--stall-* bounds on slow links; --no-stall-watch turns it off.

The proxy answers CONNECT/SOCKS "succeeded" before it connects upstream (it needs the ClientHello
to apply a strategy); when no strategy gets through, the tunnel is closed (curl: SSL_ERROR_SYSCALL
or "connection reset").

Examples:
  sultry proxy --listen 127.0.0.1:8080 --strategy record-split --resolve-locally
  sultry proxy --strategy auto --state ~/.sultry-state.json --oob helper.example.net:443 \\
      --oob-key psk.hex --oob-cover-sni www.example.com --oob-pin 3f…e1
  kill -USR1 <pid>      (one status line on stderr)`,
}

export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s.replace(/^oob:\/\//, ''))
  if (!m || Number(m[3]) > 65535) throw new UsageError(`bad address "${s}" (want HOST:PORT)`)
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) }
}

/** The planner's stall-watch bounds from the --stall-* flags; false with --no-stall-watch. */
export function stallFlags(f: ParsedArgs['flags']): Omit<StallOptions, 'tls13'> | false {
  if (f['no-stall-watch']) return false
  const bounded = (name: string, min: number, max: number): number => {
    const v = Number(f[name])
    if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name}: want ${min}..${max}, got ${String(f[name])}`)
    return v
  }
  return {
    midRecordMs: bounded('stall-mid-record', 100, 600_000),
    unansweredMs: bounded('stall-unanswered', 100, 600_000),
    windowBytes: bounded('stall-window', 1024, 64 << 20),
  }
}

function cuts(s: unknown): number[] | undefined {
  if (s === undefined) return undefined
  const parts = String(s).split(',').map((x) => Number(x.trim()))
  if (parts.some((n) => !Number.isInteger(n) || n <= 0)) throw new UsageError(`bad offsets "${String(s)}"`)
  return parts
}

function strategyChoice(s: string, flag: string): StrategyChoice {
  if (s === 'auto' || isStrategyName(s)) return s
  throw new UsageError(`${flag}: unknown strategy "${s}" (auto, direct, tcp-split, record-split, oob-resolve, oob-relay)`)
}

async function run(args: ParsedArgs): Promise<number> {
  const f = args.flags
  const world: World = liveWorld()
  const log = f.quiet ? () => {} : (line: string) => process.stderr.write(`proxy: ${line}\n`)
  const { host, port } = parseListen(String(f.listen))
  const fallback = strategyChoice(String(f.strategy), '--strategy')
  const perHost = new Map<string, StrategyChoice>()
  for (const p of (f['strategy-for'] as string[] | undefined) ?? []) {
    const eq = p.indexOf('=')
    if (eq <= 0) throw new UsageError(`--strategy-for: want HOST=S, got "${p}"`)
    perHost.set(p.slice(0, eq).toLowerCase(), strategyChoice(p.slice(eq + 1), '--strategy-for'))
  }
  const nonTls = String(f['non-tls'])
  if (nonTls !== 'pass' && nonTls !== 'refuse') throw new UsageError('--non-tls: pass or refuse')

  let oob: OobClient | undefined
  if (f.oob) {
    if (!f['oob-key']) throw new UsageError('--oob needs --oob-key FILE')
    if (!f['oob-pin'] && !f['oob-ca']) throw new UsageError('--oob needs --oob-pin SHA256 or --oob-ca FILE')
    const helper = parseListen(String(f.oob))
    oob = new OobClient(world, {
      host: helper.host,
      port: helper.port,
      coverSni: String(f['oob-cover-sni']),
      key: parseKeyFile(new Uint8Array(readFileSync(String(f['oob-key'])))),
      pinSha256: f['oob-pin'] as string | undefined,
      ca: f['oob-ca'] ? readFileSync(String(f['oob-ca']), 'utf8') : undefined,
    })
  }
  const uses = [fallback, ...perHost.values()]
  if (!oob && uses.some((s) => s === 'oob-relay' || s === 'oob-resolve')) throw new UsageError('oob-relay/oob-resolve need --oob')

  const resolver = policyResolver({
    map: parseHostMap((f.map as string[] | undefined) ?? []),
    oob: oob ? async (name) => (await oob.resolve(name))[0] ?? Promise.reject(new Error(`helper: no address for ${name}`)) : undefined,
    local: f['resolve-locally'] ? async (name) => (await lookup(name)).address : undefined,
  })
  if (!oob && !f['resolve-locally']) log('no --oob and no --resolve-locally: only IP literals and --map names can be reached')

  const statePath = f.state as string | undefined
  const store = new VerdictStore(
    statePath
      ? (json) => {
          writeFileSync(`${statePath}.tmp`, json)
          renameSync(`${statePath}.tmp`, statePath)
        }
      : undefined,
    statePath && existsSync(statePath) ? readFileSync(statePath, 'utf8') : undefined,
  )
  const all = strategies({ tcpSplit: { cuts: cuts(f['split-at']), gapMs: Number(f['split-gap']) }, recordSplit: { cuts: cuts(f['record-split-at']) } })
  const available = DEFAULT_ORDER.filter((s) => oob || (s !== 'oob-relay' && s !== 'oob-resolve'))
  const planner = new Planner({ world, store, strategies: all, available, attemptTimeoutMs: Number(f['attempt-timeout']), ttlMs: Number(f.ttl) * 1000, stall: stallFlags(f), log })
  const front = new ProxyFront({
    world,
    strategyFor: (h) => perHost.get(h.toLowerCase()) ?? fallback,
    strategies: all,
    planner,
    resolver,
    oob,
    nonTls,
    statusEndpoint: Boolean(f.status),
    log,
  })
  const l = await front.listen(port, host)
  process.stdout.write(`sultry proxy listening on ${l.host}:${l.port} (HTTP CONNECT + SOCKS5), strategy ${fallback}\n`)
  process.on('SIGUSR1', () => process.stderr.write(front.stats.line() + '\n'))
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
  oob?.close()
  await front.close()
  return 0
}

const command: Command = { spec: proxySpec, run }
export default command

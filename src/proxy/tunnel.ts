// One tunnel, once the front knows where the client wants to go: decide where the name gets
// resolved, answer the client, read its first flight through the ClientHelloGate, get an upstream
// from the chosen strategy (or the planner), hand over the server's first bytes, then splice.

import type { Conn, World } from '../net/world.js'
import { ClientHelloGate, type ClientHelloDecision, type GateDecision } from './client-hello-gate.js'
import type { OobClient } from './oob/client.js'
import { abort, splice, writeAll } from './pipe.js'
import { watchServerHello } from './server-hello-watch.js'
import { watchStall, type StallWatch } from './stall-watch.js'
import { concatBytes } from '../wire/bytes.js'
import { type Planner, withTimeout } from './planner.js'
import type { AddressResolver } from './resolver.js'
import { NoResolverError } from './resolver.js'
import type { ProxyStats } from './stats.js'
import type { Strategy, StrategyContext, StrategyName, Target } from './strategy.js'

export type StrategyChoice = StrategyName | 'auto'

export interface TunnelConfig {
  world: World
  strategyFor(host: string): StrategyChoice
  strategies: Record<StrategyName, Strategy>
  planner: Planner | undefined
  resolver: AddressResolver
  oob: OobClient | undefined
  nonTls: 'pass' | 'refuse'
  /** Wait this long for the client's first bytes; then assume a server-speaks-first protocol. */
  firstFlightTimeoutMs: number
  /** Bound on a fixed strategy's connect + first flight (auto uses the planner's bound). */
  connectTimeoutMs: number
  maxHelloBytes: number
  stats: ProxyStats
  log(line: string): void
}

export interface TunnelReplies {
  /** Tell the client the tunnel is open (200 / SOCKS succeeded). */
  ok(): void
  /** Tell the client it cannot be opened, and why; the front closes afterwards. */
  fail(kind: 'unresolvable' | 'refused', why: string): void
}

export async function runTunnel(cfg: TunnelConfig, client: Conn, target: Target, leftover: Uint8Array, replies: TunnelReplies): Promise<void> {
  const choice = cfg.strategyFor(target.host)
  const label = `${target.host}:${target.port}`
  // Resolve before answering, so an unresolvable name is reported properly. oob-relay and
  // oob-resolve never resolve here: the helper does (no lookup leaves this machine).
  let address: string | undefined
  if (choice !== 'oob-relay' && choice !== 'oob-resolve') {
    try {
      address = await cfg.resolver(target.host)
    } catch (e) {
      if (!(choice === 'auto' && cfg.oob)) {
        cfg.stats.failures++
        cfg.log(`${label}: cannot resolve: ${(e as Error).message}`)
        return replies.fail('unresolvable', (e as Error).message)
      }
    }
  }
  if (client.destroyed) return
  replies.ok()

  const decision = await readFirstFlight(cfg, client, leftover)
  if (decision.kind === 'error') {
    cfg.stats.failures++
    cfg.log(`${label}: ${decision.error.message}; closing`)
    return abort(client)
  }
  let hello: ClientHelloDecision | undefined
  let firstFlight: Uint8Array
  if (decision.kind === 'not-tls') {
    cfg.stats.notTls++
    if (cfg.nonTls === 'refuse') {
      cfg.log(`${label}: not TLS (${decision.why}); refused (--non-tls refuse)`)
      return abort(client)
    }
    firstFlight = decision.bytes
  } else {
    hello = decision
    firstFlight = new Uint8Array(decision.raw.length + decision.rest.length)
    firstFlight.set(decision.raw)
    firstFlight.set(decision.rest, decision.raw.length)
  }
  const ctx: StrategyContext = {
    world: cfg.world,
    target,
    firstFlight,
    hello,
    client,
    oob: cfg.oob,
    resolve: async (h) => {
      if (h === target.host && address !== undefined) return address
      if (h === target.host) throw new NoResolverError(h)
      return cfg.resolver(h)
    },
  }

  let upstream: Conn
  let used: StrategyName
  let serverBytes: Buffer[] = []
  let helloRetry = false
  let watched = false
  let tls13 = false
  if (choice === 'auto' && cfg.planner) {
    const r = await cfg.planner.run(ctx, hello !== undefined)
    if (!r.ok) {
      cfg.stats.failures++
      return abort(client)
    }
    ;({ upstream, strategy: used, serverBytes, helloRetry, tls13 } = r)
    watched = hello !== undefined
  } else {
    // Non-TLS bytes carry no SNI to hide: split strategies would only add delay.
    used = choice === 'auto' ? 'direct' : hello || choice === 'oob-relay' ? choice : 'direct'
    try {
      upstream = await withTimeout(cfg.world, cfg.strategies[used].connect(ctx), cfg.connectTimeoutMs, (c) => abort(c))
    } catch (e) {
      cfg.stats.failures++
      cfg.log(`${label}: ${used} failed: ${(e as Error).message}`)
      return abort(client)
    }
  }
  const strategy = cfg.strategies[used]
  // A split strategy must also split the second ClientHello a HelloRetryRequest asks for, so
  // it watches for the ServerHello even when no planner does.
  if (hello && strategy.sendHello && !watched) {
    const w = await watchServerHello(cfg.world, upstream, cfg.connectTimeoutMs)
    if (!w.ok) {
      cfg.stats.failures++
      cfg.log(`${label}: ${used}: ${w.reason} (${w.detail})`)
      abort(upstream)
      return abort(client)
    }
    ;({ serverBytes, helloRetry } = w)
  }
  if (client.destroyed) return abort(upstream)
  cfg.stats.strategies[used]++
  cfg.log(`${label}: ${used}${hello ? ` sni=${hello.sni ?? '-'} hello=${hello.raw.length}B/${hello.records} record(s)${hello.resumption ? ' resumption' : ''}` : ' (not TLS)'}`)
  try {
    for (const b of serverBytes) await writeAll(client, b)
  } catch {
    abort(upstream)
    return abort(client)
  }
  cfg.stats.bytesUp += firstFlight.length
  cfg.stats.bytesDown += serverBytes.reduce((n, b) => n + b.length, 0)
  if (helloRetry && hello && strategy.sendHello) {
    const second = await readFirstFlight(cfg, client, new Uint8Array(0), true)
    try {
      if (second.kind === 'client-hello') {
        await writeAll(upstream, second.prefix)
        await strategy.sendHello(ctx, upstream, second.raw, second.sni)
        await writeAll(upstream, second.rest)
        cfg.log(`${label}: HelloRetryRequest; second ClientHello sent with ${used}`)
      } else {
        await writeAll(upstream, second.bytes)
      }
    } catch {
      abort(upstream)
      return abort(client)
    }
    cfg.stats.bytesUp += second.kind === 'client-hello' ? second.prefix.length + second.raw.length + second.rest.length : second.bytes.length
  }
  // The planner judged by the handshake; a censor that freezes the transfer after it is caught
  // here, and the verdict moves the host's next connection (this one cannot be moved).
  let stallWatch: StallWatch | undefined
  const stallOptions = cfg.planner?.stallOptions
  if (watched && cfg.planner && stallOptions) {
    const planner = cfg.planner
    stallWatch = watchStall(cfg.world, client, upstream, serverBytes, { ...stallOptions, tls13 }, {
      stalled: (s) => {
        cfg.stats.stalls++
        planner.noteStall(target.host, used, s)
      },
      resumed: (_s, afterMs) => planner.noteResumed(target.host, used, afterMs),
    })
  }
  const r = await splice(client, upstream)
  stallWatch?.stop()
  cfg.stats.bytesUp += r.up
  cfg.stats.bytesDown += r.down
  if (r.error) {
    cfg.stats.failures++
    cfg.log(`${label}: ${used} ended with ${r.error.message}`)
  }
}

type Flight = (ClientHelloDecision & { prefix: Uint8Array }) | Exclude<GateDecision, ClientHelloDecision>

/** TLS 1.3 middlebox compatibility (RFC 8446 §D.4): a client may send ChangeCipherSpec before its second hello. */
const CCS_RECORD = [20, 3, 3, 0, 1, 1]

/**
 * Reads a ClientHello through the gate. With `peelCcs`, a leading ChangeCipherSpec record is set
 * aside as `prefix` (sent unchanged) and the hello after it is gated.
 */
function readFirstFlight(cfg: TunnelConfig, client: Conn, leftover: Uint8Array, peelCcs = false): Promise<Flight> {
  const gate = new ClientHelloGate({ maxHelloBytes: cfg.maxHelloBytes })
  let head: Uint8Array = new Uint8Array(0)
  let prefix: Uint8Array | undefined = peelCcs ? undefined : new Uint8Array(0)
  const push = (d: Uint8Array): GateDecision | undefined => {
    if (prefix) return gate.push(d)
    head = concatBytes(head, d)
    const n = Math.min(head.length, CCS_RECORD.length)
    if (!CCS_RECORD.slice(0, n).every((b, i) => head[i] === b)) {
      prefix = new Uint8Array(0)
      return gate.push(head)
    }
    if (head.length < CCS_RECORD.length) return undefined
    prefix = head.slice(0, CCS_RECORD.length)
    return head.length > CCS_RECORD.length ? gate.push(head.subarray(CCS_RECORD.length)) : undefined
  }
  const withPrefix = (d: GateDecision): Flight => {
    const p = prefix ?? head
    if (d.kind === 'client-hello') return { ...d, prefix: p }
    return p.length > 0 ? { ...d, bytes: concatBytes(p, d.bytes) } : d
  }
  return new Promise((resolve) => {
    let done = false
    const finish = (d: GateDecision) => {
      if (done) return
      done = true
      timer.cancel()
      client.off('data', onData)
      client.off('end', onEnd)
      client.pause()
      resolve(withPrefix(d))
    }
    const onData = (d: Buffer) => {
      const r = push(d)
      if (r) finish(r)
    }
    const onEnd = () => finish(gate.end())
    const timer = cfg.world.setTimer(cfg.firstFlightTimeoutMs, () => finish(gate.end()))
    if (leftover.length > 0) {
      const r = push(leftover)
      if (r) return finish(r)
    }
    client.on('data', onData)
    client.on('end', onEnd)
    client.resume()
  })
}

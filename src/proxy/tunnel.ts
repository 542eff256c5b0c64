// One tunnel, once the front knows where the client wants to go: decide where the name gets
// resolved, answer the client, read its first flight through the ClientHelloGate, get an upstream
// from the chosen strategy (or the planner), hand over the server's first bytes, then splice.

import type { Conn, World } from '../net/world.js'
import { ClientHelloGate, type ClientHelloDecision, type GateDecision } from './client-hello-gate.js'
import type { OobClient } from './oob/client.js'
import { abort, splice, writeAll } from './pipe.js'
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
  if (choice === 'auto' && cfg.planner) {
    const r = await cfg.planner.run(ctx, hello !== undefined)
    if (!r.ok) {
      cfg.stats.failures++
      return abort(client)
    }
    ;({ upstream, strategy: used, serverBytes } = r)
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
  if (client.destroyed) return abort(upstream)
  cfg.stats.strategies[used]++
  cfg.log(`${label}: ${used}${hello ? ` sni=${hello.sni ?? '-'}${hello.resumption ? ' resumption' : ''}` : ' (not TLS)'}`)
  try {
    for (const b of serverBytes) await writeAll(client, b)
  } catch {
    abort(upstream)
    return abort(client)
  }
  cfg.stats.bytesUp += firstFlight.length
  cfg.stats.bytesDown += serverBytes.reduce((n, b) => n + b.length, 0)
  const r = await splice(client, upstream)
  cfg.stats.bytesUp += r.up
  cfg.stats.bytesDown += r.down
  if (r.error) {
    cfg.stats.failures++
    cfg.log(`${label}: ${used} ended with ${r.error.message}`)
  }
}

function readFirstFlight(cfg: TunnelConfig, client: Conn, leftover: Uint8Array): Promise<GateDecision> {
  const gate = new ClientHelloGate({ maxHelloBytes: cfg.maxHelloBytes })
  return new Promise((resolve) => {
    let done = false
    const finish = (d: GateDecision) => {
      if (done) return
      done = true
      timer.cancel()
      client.off('data', onData)
      client.off('end', onEnd)
      client.pause()
      resolve(d)
    }
    const onData = (d: Buffer) => {
      const r = gate.push(d)
      if (r) finish(r)
    }
    const onEnd = () => finish(gate.end())
    const timer = cfg.world.setTimer(cfg.firstFlightTimeoutMs, () => finish(gate.end()))
    if (leftover.length > 0) {
      const r = gate.push(leftover)
      if (r) return finish(r)
    }
    client.on('data', onData)
    client.on('end', onEnd)
    client.resume()
  })
}

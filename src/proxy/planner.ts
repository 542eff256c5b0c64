// --strategy auto: per host, try strategies from cheapest to most expensive until one gets a
// ServerHello back, remember what worked (and what was blocked, and how) with a TTL, and say why.
// Retrying is safe because nothing has gone back to the client yet: the same first-flight bytes
// are replayed on each new upstream, and the server's first bytes are held until the verdict.
// A censor that lets the handshake through and freezes the transfer (throttle after N bytes) is
// judged later, by the tunnel's stall watch (stall-detector.ts), and reported here with noteStall.

import type { Conn, World } from '../net/world.js'
import { abort } from './pipe.js'
import { watchServerHello } from './server-hello-watch.js'
import { describeStall, type Stall, type StallOptions } from './stall-detector.js'
import type { Strategy, StrategyContext, StrategyName } from './strategy.js'
import type { BlockReason, VerdictStore } from './verdict-store.js'

export const DEFAULT_ORDER: StrategyName[] = ['direct', 'tcp-split', 'record-split', 'oob-resolve', 'oob-relay']

export interface PlannerOptions {
  world: World
  store: VerdictStore
  strategies: Record<StrategyName, Strategy>
  /** Strategies that can run here (OOB ones need a helper). */
  available: readonly StrategyName[]
  order?: readonly StrategyName[]
  /** Bound on connect + first flight + ServerHello, per attempt (default 5 s). */
  attemptTimeoutMs?: number
  /** How long a verdict is trusted (default 6 h). */
  ttlMs?: number
  /** Bounds of the stall watch on a tunnel the planner chose (stall-detector.ts defaults); false: no watch. */
  stall?: Omit<StallOptions, 'tls13'> | false
  log?(line: string): void
}

export interface Attempt {
  strategy: StrategyName
  ok: boolean
  reason?: BlockReason
  detail?: string
  ms: number
}

export type PlanResult =
  | { ok: true; strategy: StrategyName; upstream: Conn; serverBytes: Buffer[]; helloRetry: boolean; tls13: boolean; attempts: Attempt[] }
  | { ok: false; attempts: Attempt[] }

export class Planner {
  private readonly ttlMs: number
  private readonly timeoutMs: number

  constructor(private readonly o: PlannerOptions) {
    this.ttlMs = o.ttlMs ?? 6 * 3600_000
    this.timeoutMs = o.attemptTimeoutMs ?? 5000
  }

  /** The stall watch's bounds for tunnels this planner chose; undefined: tunnels are not watched. */
  get stallOptions(): Omit<StallOptions, 'tls13'> | undefined {
    return this.o.stall === false ? undefined : (this.o.stall ?? {})
  }

  /** The order to try for `host` now: a remembered winner first, remembered failures skipped. */
  candidates(host: string): StrategyName[] {
    const order = (this.o.order ?? DEFAULT_ORDER).filter((s) => this.o.available.includes(s))
    const v = this.o.store.get(host, this.o.world.now())
    const fresh = order.filter((s) => !v.blocked[s])
    // Everything remembered as blocked: the network may have changed, try all again.
    const list = fresh.length > 0 ? fresh : order
    if (v.works && list.includes(v.works.strategy)) return [v.works.strategy, ...list.filter((s) => s !== v.works!.strategy)]
    // A freeze is found only after the handshake, so each strategy it catches costs the user a
    // frozen load (not a 2 s attempt inside one connection): after one, go straight to the most
    // capable strategy left instead of climbing one rung per frozen page. Handshake-level failures
    // still fall back to the cheaper ones within the connection.
    if (list === fresh && Object.values(v.blocked).some((b) => b.reason === 'throttled')) return [list[list.length - 1]!, ...list.slice(0, -1)]
    return list
  }

  async run(ctx: StrategyContext, isTls: boolean): Promise<PlanResult> {
    const host = ctx.target.host
    const attempts: Attempt[] = []
    const world = this.o.world
    for (const name of this.candidates(host)) {
      const t0 = world.now()
      const outcome = await this.tryOne(name, ctx, isTls)
      const ms = world.now() - t0
      if (outcome.ok) {
        attempts.push({ strategy: name, ok: true, ms })
        this.o.store.recordWorks(host, name, world.now(), this.ttlMs)
        // The alert came from this strategy's bytes, not from the site: another one got through.
        for (const a of attempts) if (a.reason === 'alert') this.o.store.recordBlocked(host, a.strategy, 'alert', world.now(), this.ttlMs)
        this.log(`${host}: ${name} works (${ms} ms)${attempts.length > 1 ? `; before it: ${attempts.slice(0, -1).map(fmt).join(', ')}` : ''}`)
        return { ok: true, strategy: name, upstream: outcome.upstream, serverBytes: outcome.serverBytes, helloRetry: outcome.helloRetry, tls13: outcome.tls13, attempts }
      }
      attempts.push({ strategy: name, ok: false, reason: outcome.reason, detail: outcome.detail, ms })
      // An alert is the server talking: it says "blocked" only if another strategy then succeeds,
      // so it is remembered below, not here.
      if (outcome.reason !== 'alert') this.o.store.recordBlocked(host, name, outcome.reason, world.now(), this.ttlMs)
    }
    this.log(`${host}: every strategy failed: ${attempts.map(fmt).join(', ')}`)
    return { ok: false, attempts }
  }

  private async tryOne(
    name: StrategyName,
    ctx: StrategyContext,
    isTls: boolean,
  ): Promise<{ ok: true; upstream: Conn; serverBytes: Buffer[]; helloRetry: boolean; tls13: boolean } | { ok: false; reason: BlockReason; detail: string }> {
    const strategy = this.o.strategies[name]
    let upstream: Conn
    try {
      upstream = await withTimeout(this.o.world, strategy.connect(ctx), this.timeoutMs, (c) => abort(c))
    } catch (e) {
      const code = (e as { code?: string }).code
      return { ok: false, reason: code === 'ECONNRESET' ? 'reset' : code === 'ETIMEDOUT' ? 'timeout' : 'connect-failed', detail: (e as Error).message }
    }
    if (!isTls) return { ok: true, upstream, serverBytes: [], helloRetry: false, tls13: false }
    const w = await watchServerHello(this.o.world, upstream, this.timeoutMs)
    if (!w.ok) {
      abort(upstream)
      return w
    }
    return { ok: true, upstream, serverBytes: w.serverBytes, helloRetry: w.helloRetry, tls13: w.tls13 }
  }

  /**
   * The tunnel's stall watch saw the flow `strategy` carries to `host` freeze after its handshake:
   * remembered as blocked ('throttled'), so the next connection starts elsewhere. This one stays
   * as it is: its TLS state is bound to its TCP stream, so only the browser's retry can move.
   */
  noteStall(host: string, strategy: StrategyName, stall: Stall): void {
    this.o.store.recordBlocked(host, strategy, 'throttled', this.o.world.now(), this.ttlMs)
    this.log(`${host}: throttled on ${strategy}: ${describeStall(stall)}; next connection tries ${this.candidates(host)[0]} first`)
  }

  /** Bytes came after noteStall: slow, not frozen (a censor's freeze does not let go), so the verdict is taken back. */
  noteResumed(host: string, strategy: StrategyName, afterMs: number): void {
    if (this.o.store.forgetBlocked(host, strategy, 'throttled')) this.log(`${host}: ${strategy} resumed ${Math.round(afterMs)} ms after the stall: not throttled after all`)
  }

  private log(line: string): void {
    this.o.log?.(`planner: ${line}`)
  }
}

function fmt(a: Attempt): string {
  return a.ok ? `${a.strategy} ok` : `${a.strategy} ${a.reason}${a.detail ? ` (${a.detail})` : ''}`
}

/** Rejects with ETIMEDOUT after `ms`; a value that arrives late is disposed of. */
export function withTimeout<T>(world: World, p: Promise<T>, ms: number, dispose: (v: T) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false
    const t = world.setTimer(ms, () => {
      if (done) return
      done = true
      reject(Object.assign(new Error(`ETIMEDOUT: no connection within ${ms} ms`), { code: 'ETIMEDOUT' }))
    })
    p.then(
      (v) => {
        t.cancel()
        if (done) return dispose(v)
        done = true
        resolve(v)
      },
      (e: unknown) => {
        t.cancel()
        if (done) return
        done = true
        reject(e)
      },
    )
  })
}

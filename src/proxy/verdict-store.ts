// What the planner learned per host, with expiry on the World clock: which strategy worked, and
// which were seen blocked (and how). Serialised as JSON; the caller decides where it lives (the
// CLI writes it to --state FILE), so this file does no I/O.

import type { StrategyName } from './strategy.js'
import { isStrategyName } from './strategy.js'

/** throttled: the handshake got through, then the transfer froze (stall-detector.ts). */
export type BlockReason = 'reset' | 'timeout' | 'closed' | 'no-server-hello' | 'alert' | 'connect-failed' | 'error' | 'throttled'

export interface HostVerdict {
  /** The cheapest strategy that worked, until `expires` (World ms). */
  works?: { strategy: StrategyName; at: number; expires: number }
  blocked: Partial<Record<StrategyName, { reason: BlockReason; at: number; expires: number }>>
}

export interface VerdictFile {
  version: 1
  hosts: Record<string, HostVerdict>
}

export class VerdictStore {
  private hosts = new Map<string, HostVerdict>()

  constructor(
    private readonly persist?: (json: string) => void,
    initialJson?: string,
  ) {
    if (initialJson) this.load(initialJson)
  }

  /** Accepts only well-formed entries; a damaged file loses entries, never crashes the proxy. */
  load(json: string): void {
    let data: unknown
    try {
      data = JSON.parse(json)
    } catch {
      return
    }
    const hosts = (data as VerdictFile | null)?.hosts
    if (!hosts || typeof hosts !== 'object') return
    for (const [host, v] of Object.entries(hosts)) {
      const out: HostVerdict = { blocked: {} }
      const w = (v as HostVerdict)?.works
      if (w && isStrategyName(String(w.strategy)) && Number.isFinite(w.at) && Number.isFinite(w.expires)) out.works = { strategy: w.strategy, at: w.at, expires: w.expires }
      for (const [s, b] of Object.entries((v as HostVerdict)?.blocked ?? {})) {
        if (isStrategyName(s) && b && typeof b.reason === 'string' && Number.isFinite(b.at) && Number.isFinite(b.expires)) out.blocked[s] = b
      }
      this.hosts.set(host.toLowerCase(), out)
    }
  }

  get(host: string, now: number): HostVerdict {
    const v = this.hosts.get(host.toLowerCase())
    const out: HostVerdict = { blocked: {} }
    if (!v) return out
    if (v.works && v.works.expires > now) out.works = v.works
    for (const [s, b] of Object.entries(v.blocked) as [StrategyName, NonNullable<HostVerdict['blocked'][StrategyName]>][]) if (b.expires > now) out.blocked[s] = b
    return out
  }

  recordWorks(host: string, strategy: StrategyName, now: number, ttlMs: number): void {
    const v = this.entry(host)
    // A busy host confirms its winner on every connection: refresh (and write the file) only now and then.
    if (v.works?.strategy === strategy && now - v.works.at < ttlMs / 10 && !v.blocked[strategy]) return
    v.works = { strategy, at: now, expires: now + ttlMs }
    delete v.blocked[strategy]
    this.save()
  }

  recordBlocked(host: string, strategy: StrategyName, reason: BlockReason, now: number, ttlMs: number): void {
    const v = this.entry(host)
    v.blocked[strategy] = { reason, at: now, expires: now + ttlMs }
    if (v.works?.strategy === strategy) delete v.works
    this.save()
  }

  /** Takes back a block remembered for `reason` (a stall that resumed was no freeze); true if there was one. */
  forgetBlocked(host: string, strategy: StrategyName, reason: BlockReason): boolean {
    const v = this.hosts.get(host.toLowerCase())
    if (v?.blocked[strategy]?.reason !== reason) return false
    delete v.blocked[strategy]
    this.save()
    return true
  }

  toJSON(): VerdictFile {
    return { version: 1, hosts: Object.fromEntries(this.hosts) }
  }

  private entry(host: string): HostVerdict {
    const key = host.toLowerCase()
    let v = this.hosts.get(key)
    if (!v) this.hosts.set(key, (v = { blocked: {} }))
    return v
  }

  private save(): void {
    this.persist?.(JSON.stringify(this.toJSON(), null, 2))
  }
}

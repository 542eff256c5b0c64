// Counters for SIGUSR1's status line and GET /status.

import { STRATEGY_NAMES, type StrategyName } from './strategy.js'

export class ProxyStats {
  connections = 0
  active = 0
  bytesUp = 0
  bytesDown = 0
  failures = 0
  notTls = 0
  /** Tunnels the stall watch judged frozen after their handshake (throttled). */
  stalls = 0
  readonly strategies = Object.fromEntries(STRATEGY_NAMES.map((s) => [s, 0])) as Record<StrategyName, number>

  constructor(private readonly startedAt: number) {}

  json(now: number): Record<string, unknown> {
    return {
      uptimeMs: now - this.startedAt,
      connections: this.connections,
      active: this.active,
      strategies: { ...this.strategies },
      bytes: { up: this.bytesUp, down: this.bytesDown },
      failures: this.failures,
      notTls: this.notTls,
      stalls: this.stalls,
    }
  }

  line(): string {
    const per = Object.entries(this.strategies)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')
    return `sultry proxy: connections=${this.connections} active=${this.active} ${per} not-tls=${this.notTls} bytes-up=${this.bytesUp} bytes-down=${this.bytesDown} failures=${this.failures} stalls=${this.stalls}`
  }
}

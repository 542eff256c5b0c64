// What a lab scenario is: a topology, actors and assertions run in the simulated network from one
// seed. The runner prints one line per scenario: name, pass/fail, seed, trace hash.

export interface ScenarioOptions {
  seed: number
  /** Write the tapped traffic here (classic pcap; keylog at `${pcap}.keylog`). */
  pcap?: string
  /** Progress and diagnostics, one line at a time. */
  log: (line: string) => void
}

export interface ScenarioResult {
  ok: boolean
  /** One line saying what was checked, or what failed. */
  detail: string
  /** Hash of the event trace: the same seed must give the same hash. */
  traceHash: string
  /** Every option the seed chose (latency, split points …), printed so a reader sees the fault mix. */
  options: Record<string, unknown>
  /** Virtual milliseconds the run took. */
  virtualMs: number
}

export interface Scenario {
  name: string
  summary: string
  run(opts: ScenarioOptions): Promise<ScenarioResult>
}

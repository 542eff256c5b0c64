// What the ladder predicts (notes/sni-censorship.md §5.3), checked against a measured matrix, in
// Geneva's pattern (censors/ tests: every censor beats the empty strategy; each strategy beats
// exactly its listed censors). A violation is a finding: either a censor or a strategy is not what
// its name says.

import type { Rung } from '../../src/net/sim/censor/index.js'
import { STRATEGY_NAMES, type StrategyName } from '../../src/proxy/strategy.js'
import type { MatrixResult } from './run.js'

/** The rungs each strategy gets past to blocked.example; it must be blocked by every other. */
export const BEATS: Record<StrategyName, readonly Rung[]> = {
  direct: [],
  'tcp-split': ['C1', 'C2'],
  'record-split': ['C1', 'C2', 'C3'],
  // Helper-resolved address, then the hello split in TCP segments: tcp-split's reach.
  'oob-resolve': ['C1', 'C2'],
  'oob-relay': ['C1', 'C2', 'C3', 'C4', 'C5', 'C6'],
}

/** Every disagreement between the measured cells and BEATS (and the controls); empty when all hold. */
export function violations(m: MatrixResult): string[] {
  const out: string[] = []
  for (const row of m.rows) {
    if (!row.built) continue
    for (const rung of m.rungs) {
      const c = row.cells[rung]
      if (!c) continue
      let want: boolean
      if (row.label === 'control: direct → allowed.example') want = true
      else if (row.label.startsWith('control: oob-relay')) want = false
      // The planner falls through to whatever works, so it gets past every rung something beats.
      // Under a throttle the handshake passes and the first load freezes; the stall watch marks the
      // strategy throttled and the reload (a cell's second load) goes elsewhere.
      else if (row.strategy === 'auto') want = STRATEGY_NAMES.some((s) => BEATS[s].includes(rung))
      else want = BEATS[row.strategy].includes(rung)
      if (c.works !== want) out.push(`${row.label} × ${rung}: measured ${c.works ? 'works' : `blocked (${c.reason})`}, expected ${want ? 'works' : 'blocked'}`)
      // A handshake-level block costs the planner an attempt inside the load, never a load.
      else if (row.strategy === 'auto' && c.earlier.length > (m.action.kind === 'throttle' ? 1 : 0)) out.push(`${row.label} × ${rung}: took ${c.earlier.length + 1} loads`)
    }
    if (row.baseline && !row.baseline.cold.works) out.push(`${row.label} fails with no censor: ${row.baseline.cold.reason}`)
  }
  return out
}

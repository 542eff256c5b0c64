// The expected truths of the strategy × censor matrix (issue 3, "Done when"), asserted from
// measured runs: each cell is a real node:tls handshake through the proxy's real strategy, across
// the real censor, in a seeded simulated network with that seed's latency and segmentation faults.

import { describe, expect, it } from 'vitest'
import type { CensorAction, Rung } from '../../src/net/sim/censor/index.js'
import { formatMatrix, runMatrix, type MatrixResult } from './run.js'

const ALL: Rung[] = ['C1', 'C2', 'C3', 'C4', 'C5', 'C6']

function works(m: MatrixResult, label: string): Rung[] {
  const row = m.rows.find((r) => r.label === label)
  if (!row) throw new Error(`no row ${label}`)
  return ALL.filter((g) => row.cells[g]?.works === true)
}

const runs: [number, CensorAction][] = [
  [1, { kind: 'drop' }],
  [2, { kind: 'rst' }],
  [3, { kind: 'drop' }],
  [4, { kind: 'rst' }],
  // TSPU-style: the listed flow gets 16 000 bytes, enough for the handshake, then freezes.
  [5, { kind: 'throttle', afterBytes: 16_000 }],
]

describe.each(runs)('matrix, seed %i, action %o', (seed, action) => {
  let m: MatrixResult
  it('runs every strategy against every rung', async () => {
    m = await runMatrix({ seed, action })
    expect(m.rows.filter((r) => !r.built)).toEqual([])
    for (const r of m.rows) expect(Object.keys(r.cells).sort()).toEqual(ALL)
  }, 60_000)

  it('direct is blocked by every rung; the same direct to an unlisted name works under every rung', () => {
    expect(works(m, 'direct')).toEqual([])
    expect(works(m, 'control: direct → allowed.example')).toEqual(ALL)
  })

  it('tcp-split beats C1 and C2 (and only those)', () => {
    expect(works(m, 'tcp-split')).toEqual(['C1', 'C2'])
    expect(works(m, 'oob-resolve')).toEqual(['C1', 'C2'])
  })

  it('record-split beats C1–C3 (and only those)', () => {
    expect(works(m, 'record-split')).toEqual(['C1', 'C2', 'C3'])
  })

  it('auto (the planner) gets through every rung, picking the cheapest strategy that works there; under a throttle, on the reload after one frozen load', () => {
    const auto = m.rows.find((r) => r.label === 'auto (planner)')!
    expect(auto.baseline!.cold.used).toBe('direct')
    expect(works(m, 'auto (planner)')).toEqual(ALL)
    if (action.kind === 'throttle') {
      for (const g of ALL) {
        const c = auto.cells[g]!
        // The handshake got through, so the planner kept direct and the first load froze in the body …
        expect(c.earlier.map((e) => [e.used, e.works, e.handshakeMs !== undefined]), g).toEqual([['direct', false, true]])
        // … which the stall watch judged as a freeze at the censor's budget (the bytes it counts
        // both ways, less the ClientHello it saw before the watch began) …
        const seen = /blocked\.example: throttled on direct: the server stopped inside a TLS record after (\d+) B down \/ (\d+) B up/.exec(c.log.join('\n'))
        expect(seen, g).not.toBeNull()
        const flowBytes = Number(seen![1]) + Number(seen![2])
        expect(flowBytes, g).toBeLessThanOrEqual(action.afterBytes)
        expect(flowBytes, g).toBeGreaterThan(action.afterBytes - 2048)
      }
      // … so the reload went straight to the most capable strategy (one frozen load, not one per rung).
      expect(ALL.map((g) => auto.cells[g]!.used)).toEqual(ALL.map(() => 'oob-relay'))
      return
    }
    expect(ALL.map((g) => auto.cells[g]!.earlier.length)).toEqual(ALL.map(() => 0))
    expect(ALL.map((g) => auto.cells[g]!.log.some((l) => l.includes('throttled'))), 'no stall verdict without a throttle').toEqual(ALL.map(() => false))
    expect(ALL.map((g) => auto.cells[g]!.used)).toEqual(['tcp-split', 'tcp-split', 'record-split', 'oob-relay', 'oob-relay', 'oob-relay'])
  })

  it('oob-relay beats C1–C6 while the helper address and cover SNI are unlisted, and none once either is', () => {
    expect(works(m, 'oob-relay')).toEqual(ALL)
    expect(works(m, 'control: oob-relay, helper IP listed')).toEqual([])
    expect(works(m, 'control: oob-relay, cover SNI listed')).toEqual([])
  })

  it('blocked cells end as the action says: timeouts under drop and throttle (frozen), resets under rst', () => {
    const reasons = new Set(m.rows.flatMap((r) => Object.values(r.cells).filter((c) => !c.works).map((c) => c.reason)))
    // Under rst, a SYN to a listed helper address is reset too; under drop it times out.
    expect([...reasons].sort()).toEqual(action.kind === 'rst' ? ['ECONNRESET'] : ['timeout'])
  })

  it('drop and rst stop the handshake itself; throttle lets it complete and freezes the response', () => {
    const direct = m.rows.find((r) => r.label === 'direct')!
    for (const g of ALL) expect(direct.cells[g]!.handshakeMs !== undefined, g).toBe(action.kind === 'throttle')
  })

  it('every strategy completes a handshake with no censor; the OOB channel setup is paid once (cold > warm)', () => {
    for (const r of m.rows.filter((x) => x.baseline)) {
      expect(r.baseline!.cold.works, r.label).toBe(true)
      expect(r.baseline!.warm.works, r.label).toBe(true)
    }
    const relay = m.rows.find((r) => r.label === 'oob-relay')!.baseline!
    expect(relay.cold.handshakeMs!).toBeGreaterThan(relay.warm.handshakeMs!)
    expect(formatMatrix(m)).toContain('oob-relay')
  })
})

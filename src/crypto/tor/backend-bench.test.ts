import { describe, expect, it } from 'vitest'
import { measureRelayCryptoBackends } from './backend-bench.js'
import { nobleBackend, nodeBackend } from './tor1-backend.js'

describe('measureRelayCryptoBackends', () => {
  it('runs every backend through a full 3-hop circuit and reports a rate for each', () => {
    const got = measureRelayCryptoBackends(20)
    expect(got.map((m) => m.backend)).toEqual([nobleBackend.name, nodeBackend.name])
    for (const m of got) {
      expect(m.cells).toBe(20)
      expect(m.seconds).toBeGreaterThan(0)
      expect(m.cellsPerSecond).toBeCloseTo(20 / m.seconds)
    }
  })
})

// The simulator's two promises, for any seed: the same seed gives the same trace (hash) run after
// run, and a TCP stream arrives intact whatever fault mix (latency, jitter, bandwidth, split,
// coalesce, window, hold/release, scheduling policy) the seed picked.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { runEcho } from '../lab/scenarios/echo.js'

const QUICK = process.env.SULTRY_QUICK === '1'
const RUNS = QUICK ? 20 : 100
const BYTES = 64 * 1024

describe('sim determinism (echo scenario)', () => {
  it(`same seed -> same trace hash, and the echo is intact (${RUNS} seeds x ${BYTES} bytes, twice each)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
        const first = await runEcho({ seed, bytes: BYTES, log: () => {} })
        const second = await runEcho({ seed, bytes: BYTES, log: () => {} })
        expect(first.ok, `seed ${seed}: ${first.detail} options ${JSON.stringify(first.options)}`).toBe(true)
        expect(second.traceHash, `seed ${seed} not deterministic`).toBe(first.traceHash)
        expect(second.virtualMs).toBe(first.virtualMs)
        expect(second.options).toEqual(first.options)
      }),
      { numRuns: RUNS },
    )
  })

  it('different seeds give different traces', async () => {
    const hashes = new Set<string>()
    for (const seed of [1, 2, 3, 4, 5]) hashes.add((await runEcho({ seed, bytes: 4096, log: () => {} })).traceHash)
    expect(hashes.size).toBe(5)
  })
})

describe('sim determinism across processes', () => {
  it('a fresh process running the same seed prints the same trace hash', async () => {
    const { spawnSync } = await import('node:child_process')
    const { fileURLToPath } = await import('node:url')
    const root = fileURLToPath(new URL('..', import.meta.url))
    const here = await runEcho({ seed: 4242, bytes: 32 * 1024, log: () => {} })
    const code = `import { runEcho } from './lab/scenarios/echo.ts'; const r = await runEcho({ seed: 4242, bytes: 32 * 1024, log: () => {} }); console.log(JSON.stringify({ ok: r.ok, hash: r.traceHash }))`
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' })
    expect(res.status, res.stderr).toBe(0)
    const there = JSON.parse(res.stdout.trim().split('\n').pop()!) as { ok: boolean; hash: string }
    expect(there).toEqual({ ok: true, hash: here.traceHash })
  })
})

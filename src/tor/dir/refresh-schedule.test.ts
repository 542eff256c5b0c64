import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { refreshRetryMs, refreshTime, refreshWindow, uniformFromBytes } from './refresh-schedule.js'

const MIN = 60_000
const at = (h: number, m = 0) => Date.UTC(2026, 11, 7, h, m)

describe('consensus refresh schedule (dir-spec §5.1)', () => {
  // dir-spec §5.1's example: valid at 1:00, fresh until 2:00, expires 4:00 → a new consensus is
  // fetched "at a random time between 2:45 and 3:50" (the spec rounds 65.625 minutes down).
  it('gives the spec example window: 2:45 to 2:45 + 7/8 of 75 minutes', () => {
    const w = refreshWindow({ validAfter: at(1), freshUntil: at(2), validUntil: at(4) })
    expect(w.from).toBe(at(2, 45))
    expect(w.to).toBe(at(2, 45) + 65.625 * MIN)
    expect(new Date(w.to).toISOString().slice(11, 16)).toBe('03:50')
  })

  it('the lab network (20 s voting interval, valid for two): 35 s to 39.375 s after valid-after', () => {
    const w = refreshWindow({ validAfter: 0, freshUntil: 20_000, validUntil: 40_000 })
    expect([w.from, w.to]).toEqual([35_000, 39_375])
  })

  const lifetimes = fc
    .tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 1000, max: 24 * 60 * MIN }), fc.integer({ min: 1, max: 48 * 60 * MIN }))
    .map(([va, fresh, more]) => ({ validAfter: va, freshUntil: va + fresh, validUntil: va + fresh + more }))

  it('always picks a time after fresh-until and before valid-until, inside the window', () => {
    fc.assert(
      fc.property(lifetimes, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (c, u) => {
        const w = refreshWindow(c)
        const t = refreshTime(c, u)
        expect(w.from).toBeGreaterThan(c.freshUntil)
        expect(w.to).toBeLessThanOrEqual(c.validUntil)
        expect(t).toBeGreaterThanOrEqual(Math.floor(w.from))
        expect(t).toBeLessThanOrEqual(w.to)
      }),
      { numRuns: 2000 },
    )
  })

  it('retries within 1 s … 20 min, and within the window for the public network’s hourly consensus', () => {
    fc.assert(
      fc.property(lifetimes, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (c, u) => {
        const r = refreshRetryMs(c, u)
        expect(r).toBeGreaterThanOrEqual(1000)
        expect(r).toBeLessThan(20 * MIN)
      }),
      { numRuns: 2000 },
    )
    const hourly = { validAfter: at(1), freshUntil: at(2), validUntil: at(4) }
    const w = refreshWindow(hourly)
    expect(refreshRetryMs(hourly, 0.999)).toBeLessThan((w.to - w.from) / 4)
  })

  it('maps random bytes onto [0, 1)', () => {
    expect(uniformFromBytes(Uint8Array.of(0, 0, 0, 0))).toBe(0)
    expect(uniformFromBytes(Uint8Array.of(0x80, 0, 0, 0))).toBe(0.5)
    expect(uniformFromBytes(Uint8Array.of(255, 255, 255, 255))).toBeLessThan(1)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Rng, RngStream } from './rng.js'

const RUNS = process.env.SULTRY_QUICK === '1' ? 300 : 2_000

describe('RngStream (xoshiro128**)', () => {
  it('matches the reference outputs for state {1,2,3,4}', () => {
    // Expected values: rand_xoshiro's `reference` test for Xoshiro128StarStar, "produced with the
    // reference implementation (v1.1) http://xoshiro.di.unimi.it/xoshiro128starstar.c".
    const r = RngStream.fromState('ref', [1, 2, 3, 4])
    const out = Array.from({ length: 10 }, () => r.next32())
    expect(out).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804])
  })

  it('gives the same sequence for the same seed and name, a different one otherwise', () => {
    const seq = (seed: number, name: string) => {
      const s = new Rng(seed).stream(name)
      return Array.from({ length: 8 }, () => s.next32())
    }
    expect(seq(42, 'faults')).toEqual(seq(42, 'faults'))
    expect(seq(42, 'faults')).not.toEqual(seq(43, 'faults'))
    expect(seq(42, 'faults')).not.toEqual(seq(42, 'hosts'))
  })

  it('keeps streams independent: drawing from one never shifts another', () => {
    const rng = new Rng(7)
    const a = rng.stream('a')
    for (let i = 0; i < 1000; i++) a.next32()
    const b1 = rng.stream('b')
    const b2 = new Rng(7).stream('b')
    expect(Array.from({ length: 16 }, () => b1.next32())).toEqual(Array.from({ length: 16 }, () => b2.next32()))
  })

  it('derives sub-streams by name', () => {
    const x = new Rng(1).stream('host:a').stream('tls')
    const y = new Rng(1).stream('host:a/tls')
    expect(x.next32()).toBe(y.next32())
  })

  it('int(lo, hi) stays within bounds (inclusive) and reaches both ends of a small range', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 2 ** 40 }), (seed, lo, span) => {
        const s = new Rng(seed).stream('int')
        for (let i = 0; i < 20; i++) {
          const v = s.int(lo, lo + span)
          if (!Number.isInteger(v) || v < lo || v > lo + span) return false
        }
        return true
      }),
      { numRuns: RUNS },
    )
    const s = new Rng(3).stream('ends')
    const seen = new Set(Array.from({ length: 200 }, () => s.int(0, 2)))
    expect([...seen].sort()).toEqual([0, 1, 2])
    expect(() => s.int(2, 1)).toThrow(RangeError)
  })

  it('float() is in [0, 1) and chance() honours 0 and 1', () => {
    const s = new Rng(5).stream('f')
    let sum = 0
    for (let i = 0; i < 10_000; i++) {
      const f = s.float()
      expect(f >= 0 && f < 1).toBe(true)
      sum += f
    }
    expect(Math.abs(sum / 10_000 - 0.5)).toBeLessThan(0.02)
    for (let i = 0; i < 100; i++) {
      expect(s.chance(0)).toBe(false)
      expect(s.chance(1)).toBe(true)
    }
  })

  it('bytes(n) has length n, is deterministic and uses the words big-endian', () => {
    for (const n of [0, 1, 3, 4, 5, 17, 1000]) {
      expect(new Rng(9).stream('b').bytes(n).length).toBe(n)
    }
    expect(new Rng(9).stream('b').bytes(33)).toEqual(new Rng(9).stream('b').bytes(33))
    const r = RngStream.fromState('ref', [1, 2, 3, 4])
    // 11520 = 0x00002d00, 0, 5927040 = 0x005a6f80 (the reference outputs above).
    expect(Array.from(r.bytes(10))).toEqual([0x00, 0x00, 0x2d, 0x00, 0, 0, 0, 0, 0x00, 0x5a])
  })

  it('pick() returns elements of the array and rejects an empty one', () => {
    const s = new Rng(11).stream('p')
    const arr = ['a', 'b', 'c']
    const seen = new Set(Array.from({ length: 100 }, () => s.pick(arr)))
    expect([...seen].sort()).toEqual(arr)
    expect(() => s.pick([])).toThrow(RangeError)
  })
})

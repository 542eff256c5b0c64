import { describe, expect, it } from 'vitest'
import { deriveLinkDirOptions } from './link.js'
import { Rng } from './rng.js'
import { record, twoHosts } from './test-helpers.js'
import type { LinkDirOptions } from './link.js'

async function send(ab: Partial<LinkDirOptions>, writes: Buffer[], action?: (net: import('./network.js').SimNetwork) => void) {
  const { net, a, accepted } = await twoHosts(ab)
  const p = a.world.net.connect('b', 80)
  await net.run({ until: p })
  const c = await p
  const r = record(accepted[0]!, () => net.sched.now())
  const t0 = net.sched.now()
  action?.(net)
  for (const w of writes) c.write(w)
  c.end()
  await net.run({ until: () => r.ended })
  return { r, t0, net, all: Buffer.concat(r.chunks.map((x) => x.data)) }
}

const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff))

describe('Link faults', () => {
  it('delivers after the latency, plus serialization delay at finite bandwidth', async () => {
    const { r, t0 } = await send({ latencyMs: 25 }, [Buffer.from('x')])
    expect(r.chunks.map((c) => c.t - t0)).toEqual([25])
    const slow = await send({ latencyMs: 25, bandwidth: 1_000_000 }, [Buffer.alloc(10_000)])
    expect(slow.r.chunks.map((c) => c.t - slow.t0)).toEqual([35]) // 10 kB at 1 MB/s = 10 ms
  })

  it('cuts writes into segments of at most mss', async () => {
    const data = pattern(100)
    const { r, all } = await send({ mss: 10 }, [data])
    expect(r.chunks.map((c) => c.data.length)).toEqual(Array(10).fill(10))
    expect(all.equals(data)).toBe(true)
  })

  it('splits segments at random points when splitP = 1, data intact', async () => {
    const data = pattern(5000)
    const { r, all } = await send({ mss: 1000, splitP: 1 }, [data])
    expect(r.chunks.length).toBeGreaterThan(5)
    expect(r.chunks.every((c) => c.data.length < 1000)).toBe(true)
    expect(all.equals(data)).toBe(true)
  })

  it('coalesces consecutive writes into one chunk when coalesceP = 1', async () => {
    const writes = [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')]
    const { r } = await send({ coalesceP: 1 }, writes)
    expect(r.chunks.map((c) => c.data.toString())).toEqual(['onetwothree'])
  })

  it('never reorders a connection, whatever the jitter', async () => {
    const writes = Array.from({ length: 200 }, (_, i) => Buffer.from(`<${i}>`))
    const { r, all } = await send({ latencyMs: 5, jitterMs: 200, mss: 3 }, writes)
    expect(all.toString()).toBe(writes.map((w) => w.toString()).join(''))
    const times = r.chunks.map((c) => c.t)
    expect(times).toEqual([...times].sort((x, y) => x - y))
    expect(new Set(times).size).toBeGreaterThan(1)
  })

  it('hold buffers everything; release delivers it at once, as one chunk', async () => {
    const { r, t0 } = await send({ latencyMs: 5, mss: 4 }, [Buffer.from('abcdefghijkl')], (net) => {
      net.hold('a', 'b')
      net.sched.after(100, 'release', () => net.release('a', 'b'))
    })
    expect(r.chunks.map((c) => [c.t - t0, c.data.toString()])).toEqual([[100, 'abcdefghijkl']])
  })

  it('draws each direction\'s options from the seed within the documented ranges', () => {
    for (let seed = 0; seed < 200; seed++) {
      const o = deriveLinkDirOptions(new Rng(seed).stream('link:x->y'))
      expect(o.latencyMs).toBeGreaterThanOrEqual(1)
      expect(o.latencyMs).toBeLessThanOrEqual(80)
      expect(o.jitterMs).toBeLessThanOrEqual(Math.max(1, o.latencyMs >> 1))
      expect([64, 536, 1460, 4096, 16384, 65536]).toContain(o.mss)
      expect(o.splitP).toBeGreaterThanOrEqual(0)
      expect(o.coalesceP).toBeLessThan(1)
    }
    expect(deriveLinkDirOptions(new Rng(4).stream('link:x->y'))).toEqual(deriveLinkDirOptions(new Rng(4).stream('link:x->y')))
  })
})

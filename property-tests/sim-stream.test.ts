// A virtual TCP connection is a byte stream whatever the link does: for generated link options
// (MSS down to 1 byte, splitting, coalescing, jitter, bandwidth, tiny windows) and generated write
// sizes, the receiver gets exactly the concatenation of the writes, followed by EOF.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SimNetwork } from '../src/net/sim/network.js'

const RUNS = process.env.SULTRY_QUICK === '1' ? 50 : 300

const linkDir = fc.record({
  latencyMs: fc.integer({ min: 0, max: 50 }),
  jitterMs: fc.integer({ min: 0, max: 30 }),
  bandwidth: fc.constantFrom(0, 10_000, 1_000_000),
  mss: fc.integer({ min: 1, max: 3000 }),
  splitP: fc.constantFrom(0, 0.2, 0.9),
  coalesceP: fc.constantFrom(0, 0.3, 0.9),
  windowBytes: fc.integer({ min: 1, max: 20_000 }),
})

describe('sim stream integrity', () => {
  it('delivers exactly the bytes written, in order, then EOF', async () => {
    await fc.assert(
      fc.asyncProperty(
        linkDir,
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.constantFrom('queue' as const, 'stack' as const),
        async (dir, sizes, seed, policy) => {
          const net = new SimNetwork({ seed, policy })
          const a = net.addHost('a')
          const b = net.addHost('b')
          net.link('a', 'b', { ab: dir, ba: dir })
          const parts: Buffer[] = []
          let ended = false
          await b.world.net.listen(1, (c) => {
            c.on('data', (d: Buffer) => parts.push(d))
            c.on('end', () => (ended = true))
          })
          let counter = 0
          const writes = sizes.map((n) => Buffer.from(Array.from({ length: n }, () => counter++ & 0xff)))
          const sending = (async () => {
            const c = await a.world.net.connect('b', 1)
            for (const w of writes) if (!c.write(w)) await new Promise((r) => c.once('drain', r))
            c.end()
          })()
          await net.run({ until: () => ended, maxVirtualMs: 3_600_000 })
          await sending
          expect(Buffer.concat(parts).equals(Buffer.concat(writes))).toBe(true)
          if (dir.mss === 1 && dir.coalesceP === 0) expect(parts.every((p) => p.length === 1)).toBe(true)
        },
      ),
      { numRuns: RUNS },
    )
  })
})

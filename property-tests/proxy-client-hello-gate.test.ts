// ClientHelloGate: any chunking of the same bytes gives the same decision, and the decision always
// carries every byte pushed, in order (raw + rest, or bytes). Random and mutated input never throws.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concatBytes, equalBytes } from '../src/wire/bytes.js'
import { ClientHelloGate, type GateDecision } from '../src/proxy/client-hello-gate.js'
import { framed, helloMessage } from '../src/proxy/testkit/hellos.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000

function run(bytes: Uint8Array, cuts: number[], maxHelloBytes?: number): { d: GateDecision; fed: Uint8Array } {
  const g = new ClientHelloGate({ maxHelloBytes })
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  let prev = 0
  for (const p of [...points, bytes.length]) {
    const d = g.push(bytes.subarray(prev, p))
    if (d) return { d, fed: bytes.subarray(0, p) }
    prev = p
  }
  return { d: g.end(), fed: bytes }
}

function carried(d: GateDecision): Uint8Array {
  return d.kind === 'client-hello' ? concatBytes(d.raw, d.rest) : d.bytes
}

const hello = fc
  .record({
    sni: fc.option(fc.domain(), { nil: undefined }),
    alpn: fc.option(fc.array(fc.constantFrom('h2', 'http/1.1', 'x'), { minLength: 1, maxLength: 3 }), { nil: undefined }),
    psk: fc.boolean(),
    keyShareBytes: fc.integer({ min: 1, max: 1500 }),
  })
  .chain((shape) => {
    const msg = helloMessage(shape)
    return fc.record({
      shape: fc.constant(shape),
      msg: fc.constant(msg),
      recordCuts: fc.array(fc.integer({ min: 1, max: msg.length - 1 }), { maxLength: 6 }),
      rest: fc.uint8Array({ maxLength: 64 }),
      chunkCuts: fc.array(fc.nat(), { maxLength: 12 }),
    })
  })

describe('ClientHelloGate properties', () => {
  it('same decision under any record framing and chunking; no byte lost', () => {
    fc.assert(
      fc.property(hello, ({ shape, msg, recordCuts, rest, chunkCuts }) => {
        const recs = framed(msg, [...new Set(recordCuts)].sort((a, b) => a - b))
        const bytes = concatBytes(recs, rest)
        const { d, fed } = run(bytes, chunkCuts)
        expect(d.kind).toBe('client-hello')
        if (d.kind !== 'client-hello') return
        expect(d.sni).toBe(shape.sni)
        expect(d.alpn).toEqual(shape.alpn)
        expect(d.resumption).toBe(shape.psk)
        expect(equalBytes(d.raw, recs)).toBe(true)
        expect(equalBytes(carried(d), fed)).toBe(true)
      }),
      { numRuns },
    )
  })

  it('random and mutated input: a decision or a wait, never a throw, never a lost byte', () => {
    const mutated = hello.chain(({ msg, recordCuts }) => {
      const recs = framed(msg, [...new Set(recordCuts)].sort((a, b) => a - b))
      return fc.tuple(fc.constant(recs), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })).map(([b, muts]) => {
        const out = b.slice()
        for (const [at, v] of muts) out[at % out.length] = v
        return out
      })
    })
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 3000, size: 'max' }), mutated), fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 64, max: 70_000 }), (bytes, cuts, max) => {
        const { d, fed } = run(bytes, cuts, max)
        expect(equalBytes(carried(d), fed)).toBe(true)
        if (d.kind === 'error') expect(d.error.code).toBe('too-large')
      }),
      { numRuns },
    )
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WireError } from '../wire/bytes.js'
import { ChunkedDecoder, encodeChunked } from './chunked.js'

const RUNS = process.env.SULTRY_QUICK === '1' ? 300 : 10_000
const enc = (s: string) => new TextEncoder().encode(s)

function decodeAll(parts: Uint8Array[]): { body: string; done: boolean; rest: string } {
  const d = new ChunkedDecoder()
  const out = parts.flatMap((p) => d.push(p))
  return { body: Buffer.concat(out).toString('latin1'), done: d.done, rest: Buffer.from(d.rest).toString('latin1') }
}

describe('chunked transfer coding', () => {
  // RFC 9112 §7.1 grammar; example in the style of RFC 9112 §7.1.3 with an extension and a trailer.
  it('decodes chunks with extensions and trailers and stops at the final CRLF', () => {
    const wire = enc('4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\nNEXT')
    expect(decodeAll([wire])).toEqual({ body: 'Wikipedia in\r\n\r\nchunks.', done: true, rest: 'NEXT' })
  })

  it('round-trips any body however it is split', () => {
    const arb = fc.tuple(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }))
    fc.assert(fc.property(arb, ([chunks, cuts]) => {
      const wire = encodeChunked(chunks)
      const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b)
      const bounds = [0, ...points, wire.length]
      const parts = bounds.slice(1).map((end, i) => wire.subarray(bounds[i], end))
      const r = decodeAll(parts)
      expect(r.done).toBe(true)
      expect(r.body).toBe(Buffer.concat(chunks).toString('latin1'))
    }), { numRuns: RUNS })
  })

  it('throws only WireError on random and mutated input', () => {
    const valid = encodeChunked([enc('hello'), enc('world!')])
    const mutated = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, v]) => {
      const m = valid.slice()
      m[at % m.length] = v
      return m
    })
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 5000, size: 'max' }), mutated), (b) => {
      try { decodeAll([b]) } catch (e) { expect(e).toBeInstanceOf(WireError) }
    }), { numRuns: RUNS })
  })

  it('bounds the chunk-size line', () => {
    expect(() => decodeAll([enc('1;' + 'x'.repeat(5000))])).toThrow(WireError)
  })
})

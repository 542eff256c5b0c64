import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concatBytes } from '../wire/bytes.js'
import { encodeRecord, MAX_RECORD_FRAGMENT } from '../wire/tls/record.js'
import { RecordCursor } from './record-cursor.js'

const records = fc.array(
  fc.record({ type: fc.integer({ min: 20, max: 24 }), length: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: MAX_RECORD_FRAGMENT })) }),
  { maxLength: 8 },
)

describe('RecordCursor', () => {
  it('reports the headers encodeRecord wrote, however the stream is cut, and is between records only at their ends', () => {
    fc.assert(
      fc.property(records, fc.array(fc.nat(), { maxLength: 12 }), fc.nat(), (recs, rawCuts, tail) => {
        const bytes = concatBytes(...recs.map((r) => encodeRecord({ type: r.type, legacyVersion: 0x0303, fragment: new Uint8Array(r.length) })))
        // Optionally drop a tail: the cursor must then be mid-record exactly when a record is incomplete.
        const keep = recs.length > 0 && tail % 3 === 0 ? Math.max(0, bytes.length - 1 - (tail % bytes.length)) : bytes.length
        const stream = bytes.subarray(0, keep)
        const cuts = [...new Set(rawCuts.map((c) => (stream.length ? c % stream.length : 0)))].sort((a, b) => a - b)
        const c = new RecordCursor()
        const seen = []
        let from = 0
        for (const cut of [...cuts, stream.length]) seen.push(...c.push(stream.subarray(from, (from = cut))))
        let ends = 0
        const boundaries = [0, ...recs.map((r) => (ends += 5 + r.length))]
        const started = recs.filter((_, i) => boundaries[i]! + 5 <= keep).length
        expect(seen).toEqual(recs.slice(0, started).map((r) => ({ type: r.type, length: r.length })))
        expect(c.midRecord).toBe(!boundaries.includes(keep))
        expect(c.failed).toBeUndefined()
      }),
    )
  })

  it('stops at a header that is not TLS', () => {
    const c = new RecordCursor()
    expect(c.push(new TextEncoder().encode('GET / HTTP/1.1\r\n'))).toEqual([])
    expect(c.failed?.message).toMatch(/ContentType/)
    const big = new RecordCursor()
    big.push(Uint8Array.of(23, 3, 3, 0xff, 0xff))
    expect(big.failed?.code).toBe('bad-length')
  })
})

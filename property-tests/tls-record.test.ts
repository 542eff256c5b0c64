// Properties of the TLS record layer: encode/decode round trip, only WireError on any input,
// and RecordReader giving identical records for any chunking of a stream, with bounded buffering.

import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { concatBytes, equalBytes } from '../src/wire/bytes.js'
import { decodeRecord, encodeRecord, MAX_RECORD_FRAGMENT, MAX_RECORD_LENGTH, type TlsRecord } from '../src/wire/tls/record.js'
import { type RecordEvent, RecordReader } from '../src/wire/tls/record-reader.js'
import { mutated, onlyWireError } from './support.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000

// Lengths up to the 2^14+256 limit matter, but generating 16 KiB of random bytes per run does
// not: a random head followed by a fill byte covers every length cheaply.
const fragmentArb = fc
  .tuple(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: MAX_RECORD_FRAGMENT }), fc.integer({ min: 0, max: 255 }))
  .map(([head, length, fill]) => {
    const f = new Uint8Array(Math.max(length, head.length)).fill(fill)
    f.set(head)
    return f.subarray(0, Math.min(f.length, MAX_RECORD_FRAGMENT))
  })

const recordArb: fc.Arbitrary<TlsRecord> = fc.record({
  type: fc.integer({ min: 20, max: 24 }),
  legacyVersion: fc.integer({ min: 0x0300, max: 0x03ff }),
  fragment: fragmentArb,
})

const summary = (evs: RecordEvent[]) =>
  evs.map((e) => (e.kind === 'record' ? { o: e.offset, t: e.record.type, v: e.record.legacyVersion, f: e.record.fragment } : { o: e.offset, code: e.error.code }))

/** Feeds `stream` cut at `cuts`; checks the buffer bound after every push. */
function feed(stream: Uint8Array, cuts: number[]): RecordEvent[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b)
  const reader = new RecordReader()
  const events: RecordEvent[] = []
  let prev = 0
  for (const p of [...points, stream.length]) {
    events.push(...reader.push(stream.subarray(prev, p)))
    expect(reader.buffered).toBeLessThanOrEqual(MAX_RECORD_LENGTH)
    prev = p
  }
  events.push(...reader.end())
  return events
}

describe('TLS record properties', () => {
  it('round-trips any record', () => {
    fc.assert(
      fc.property(recordArb, (r) => {
        const bytes = encodeRecord(r)
        const { record, used } = decodeRecord(bytes)
        expect(used).toBe(bytes.length)
        expect([record.type, record.legacyVersion]).toEqual([r.type, r.legacyVersion])
        expect(equalBytes(record.fragment, r.fragment)).toBe(true)
      }),
      { numRuns },
    )
  })

  it('throws only WireError on random and mutated input', () => {
    const input = fc.oneof(fc.uint8Array({ maxLength: 64, size: 'max' }), mutated(recordArb.map(encodeRecord)))
    fc.assert(fc.property(input, (b) => onlyWireError(() => decodeRecord(b))), { numRuns })
  })

  it('gives identical records for any chunking of a stream, and at most one record buffered', () => {
    const stream = fc.array(
      fc.record({ type: fc.integer({ min: 20, max: 24 }), legacyVersion: fc.constant(0x0303), fragment: fc.uint8Array({ maxLength: 600 }) }),
      { maxLength: 8 },
    ).map((rs) => concatBytes(...rs.map(encodeRecord)))
    // Sometimes followed by garbage or a cut, so errors must chunk identically too.
    const tail = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 1, maxLength: 12 }))
    fc.assert(
      fc.property(stream, tail, fc.array(fc.nat(), { maxLength: 12 }), (s, t, cuts) => {
        const all = concatBytes(s, t)
        const whole = summary(feed(all, []))
        expect(summary(feed(all, cuts))).toEqual(whole)
        expect(whole.filter((e) => 'code' in e).length).toBeLessThanOrEqual(1)
      }),
      { numRuns },
    )
  })

  it('turns any byte stream into records and at most one WireError event, never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000, size: 'max' }), fc.array(fc.nat(), { maxLength: 6 }), (b, cuts) => {
        const evs = feed(b, cuts)
        const errors = evs.filter((e) => e.kind === 'error')
        expect(errors.length).toBeLessThanOrEqual(1)
        if (errors.length === 1) expect(evs[evs.length - 1].kind).toBe('error')
      }),
      { numRuns },
    )
  })
})

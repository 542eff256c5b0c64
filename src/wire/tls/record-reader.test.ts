import { describe, expect, it } from 'vitest'
import { concatBytes, fromHex } from '../bytes.js'
import { encodeRecord, MAX_RECORD_LENGTH } from './record.js'
import { type RecordEvent, RecordReader } from './record-reader.js'

const rec = (type: number, n: number, fill = 0xab) => encodeRecord({ type, legacyVersion: 0x0303, fragment: new Uint8Array(n).fill(fill) })
const summary = (evs: RecordEvent[]) =>
  evs.map((e) => (e.kind === 'record' ? ['record', e.offset, e.record.type, e.record.fragment.length] : ['error', e.offset, e.error.code]))

describe('RecordReader', () => {
  const stream = concatBytes(rec(22, 10), rec(20, 1), rec(23, 300), rec(21, 2))

  it('gives each record with its stream offset', () => {
    const r = new RecordReader()
    expect(summary(r.push(stream))).toEqual([
      ['record', 0, 22, 10],
      ['record', 15, 20, 1],
      ['record', 21, 23, 300],
      ['record', 326, 21, 2],
    ])
    expect(r.end()).toEqual([])
  })

  it('gives the same records when fed one byte at a time', () => {
    const r = new RecordReader()
    const events: RecordEvent[] = []
    for (let i = 0; i < stream.length; i++) events.push(...r.push(stream.subarray(i, i + 1)))
    expect(summary(events)).toEqual(summary(new RecordReader().push(stream)))
  })

  it('does not alias the caller\'s buffer', () => {
    const copy = stream.slice()
    const [first] = new RecordReader().push(copy)
    copy.fill(0)
    expect(first.kind === 'record' && first.record.fragment[0]).toBe(0xab)
  })

  it('reports a malformed header once, at its offset, and then ignores the rest', () => {
    const r = new RecordReader()
    const bad = concatBytes(rec(22, 4), fromHex('4745542f20485454'), rec(22, 4))
    expect(summary(r.push(bad))).toEqual([['record', 0, 22, 4], ['error', 9, 'bad-value']])
    expect(r.failed).toBe(true)
    expect(r.push(rec(22, 4))).toEqual([])
    expect(r.end()).toEqual([])
  })

  it('reports a stream that ends mid-record as truncated', () => {
    const r = new RecordReader()
    r.push(rec(23, 100).subarray(0, 50))
    expect(summary(r.end())).toEqual([['error', 0, 'truncated']])
  })

  it('never buffers more than one maximal record', () => {
    const r = new RecordReader()
    const big = rec(23, 2 ** 14 + 256)
    r.push(big.subarray(0, big.length - 1))
    expect(r.buffered).toBe(big.length - 1)
    expect(r.buffered).toBeLessThanOrEqual(MAX_RECORD_LENGTH)
    expect(summary(r.push(concatBytes(big.subarray(big.length - 1), rec(22, 1))))).toEqual([
      ['record', 0, 23, 2 ** 14 + 256],
      ['record', big.length, 22, 1],
    ])
    expect(r.buffered).toBe(0)
  })
})

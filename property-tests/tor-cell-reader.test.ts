// Properties of the Tor channel-cell framer (src/wire/tor/cell.ts CellReader): the same cells come
// out however the byte stream is chunked, including across the VERSIONS -> negotiated CircID
// switch, and garbage yields one typed error, never an exception.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WireError, concatBytes, toHex } from '../src/wire/bytes.js'
import { CELL_BODY_LEN, CellReader, ChanCmd, circIdLenFor, encodeCell, isVariableLength, type CellEvent, type ChannelCell } from '../src/wire/tor/cell.js'

const RUNS = process.env.SULTRY_QUICK === '1' ? 300 : 10_000

const cellArb = (circIdLen: 2 | 4): fc.Arbitrary<ChannelCell> =>
  fc.integer({ min: 0, max: 0xff }).chain((command) =>
    fc.record({
      circId: fc.integer({ min: 0, max: circIdLen === 2 ? 0xffff : 0xffffffff }),
      command: fc.constant(command),
      body: isVariableLength(command)
        ? fc.uint8Array({ maxLength: 1200, size: 'max' })
        : fc.uint8Array({ minLength: CELL_BODY_LEN, maxLength: CELL_BODY_LEN }),
    }),
  )

/** A channel as a peer sends it: VERSIONS (2-byte CircID), then cells in the negotiated format. */
const channelArb = fc.constantFrom(3, 4, 5).chain((link) =>
  fc.record({
    link: fc.constant(link),
    versions: fc.uint8Array({ maxLength: 20 }).map((b): ChannelCell => ({ circId: 0, command: ChanCmd.VERSIONS, body: b.subarray(0, b.length & ~1) })),
    cells: fc.array(cellArb(circIdLenFor(link)), { maxLength: 6 }),
  }),
)

function chunk(all: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let from = 0
  for (const p of [...points, all.length]) {
    out.push(all.subarray(from, p))
    from = p
  }
  return out
}

/** Drives a reader the way a channel would: set the link version as soon as VERSIONS arrives. */
function readAll(chunks: Uint8Array[], link: number): CellEvent[] {
  const reader = new CellReader()
  const events: CellEvent[] = []
  const take = (evs: CellEvent[]) => {
    events.push(...evs)
    if (!reader.linkVersionKnown && evs.some((e) => e.kind === 'cell' && e.cell.command === ChanCmd.VERSIONS)) take(reader.setLinkVersion(link))
  }
  for (const c of chunks) take(reader.receive(c))
  return events
}

describe('CellReader', () => {
  it('gives the same cells for any chunking', () => {
    fc.assert(
      fc.property(channelArb, fc.array(fc.nat(), { maxLength: 12 }), ({ link, versions, cells }, cuts) => {
        const len = circIdLenFor(link)
        const all = concatBytes(encodeCell(versions, 2), ...cells.map((c) => encodeCell(c, len)))
        const events = readAll(chunk(all, cuts), link)
        expect(events.every((e) => e.kind === 'cell')).toBe(true)
        // Compared as strings: deep-equality over thousands of bytes per run would dominate the suite.
        const show = (c: ChannelCell) => `${c.circId}/${c.command}/${toHex(c.body)}`
        expect(events.map((e) => (e.kind === 'cell' ? show(e.cell) : 'error'))).toEqual([versions, ...cells].map(show))
      }),
      { numRuns: RUNS },
    )
  })

  it('random and corrupted streams give cells or one WireError, nothing else', () => {
    const stream = fc.oneof(
      fc.uint8Array({ maxLength: 2000, size: 'max' }),
      fc.tuple(channelArb, fc.nat(), fc.integer({ min: 0, max: 0xff })).map(([{ link, versions, cells }, at, v]) => {
        const all = concatBytes(encodeCell(versions, 2), ...cells.map((c) => encodeCell(c, circIdLenFor(link))))
        if (all.length > 0) all[at % all.length] = v
        return all
      }),
    )
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 8 }), fc.constantFrom(3, 4, 5), (all, cuts, link) => {
        const events = readAll(chunk(all, cuts), link)
        const errors = events.filter((e) => e.kind === 'error')
        for (const e of errors) expect(e.kind === 'error' && e.error).toBeInstanceOf(WireError)
        // Once failed, a reader stays failed: nothing is framed after the error.
        const firstError = events.findIndex((e) => e.kind === 'error')
        if (firstError >= 0) expect(events.slice(firstError).every((e) => e.kind === 'error')).toBe(true)
      }),
      { numRuns: RUNS },
    )
  })
})

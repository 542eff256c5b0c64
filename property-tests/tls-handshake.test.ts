// HandshakeReader and dissectTlsConversation under any record split: identical messages (types,
// bodies, record indexes follow the split), only typed error events on random input, and a
// dissector that never throws.

import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { concatBytes, equalBytes, WireError } from '../src/wire/bytes.js'
import { dissectTlsConversation } from '../src/wire/tls/dissect.js'
import { decodeHandshake, encodeHandshake } from '../src/wire/tls/handshake.js'
import { type HandshakeEvent, HandshakeReader } from '../src/wire/tls/handshake-reader.js'
import { encodeRecord } from '../src/wire/tls/record.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000

const message = fc.record({ msgType: fc.integer({ min: 0, max: 255 }), body: fc.uint8Array({ maxLength: 3000 }) })

/** Splits `bytes` at `cuts` into record fragments (empty ones dropped, as no record is empty). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const p of [...points, bytes.length]) {
    if (p > prev) out.push(bytes.subarray(prev, p))
    prev = p
  }
  return out
}

function readAll(fragments: Uint8Array[], max?: number): HandshakeEvent[] {
  const r = new HandshakeReader(max === undefined ? {} : { maxMessageLength: max })
  return fragments.flatMap((f, i) => r.push(f, i))
}

describe('Handshake message framing properties', () => {
  it('round-trips any message', () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodeHandshake(m)
        const { message: back, used } = decodeHandshake(bytes)
        expect([back.msgType, used]).toEqual([m.msgType, bytes.length])
        expect(equalBytes(back.body, m.body)).toBe(true)
      }),
      { numRuns },
    )
  })

  it('throws only WireError (truncated, with what is missing) on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40, size: 'max' }), (b) => {
        try {
          const { used } = decodeHandshake(b)
          expect(used).toBe(4 + ((b[1] << 16) | (b[2] << 8) | b[3]))
        } catch (e) {
          if (!(e instanceof WireError)) throw e
          expect(e.code).toBe('truncated')
          expect(e.needed).toBeGreaterThan(0)
        }
      }),
      { numRuns },
    )
  })
})

describe('HandshakeReader properties', () => {
  it('gives the same messages for any split into records, with the right first and last record', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (msgs, cuts) => {
        const encoded = msgs.map(encodeHandshake)
        const stream = concatBytes(...encoded)
        const fragments = split(stream, cuts)
        const events = readAll(fragments)
        expect(events.length).toBe(msgs.length)
        // Where each message starts and ends in the stream tells which record holds those bytes.
        const recordAt = (pos: number) => {
          let end = 0
          for (let i = 0; i < fragments.length; i++) {
            end += fragments[i].length
            if (pos < end) return i
          }
          return -1
        }
        let start = 0
        events.forEach((ev, i) => {
          if (ev.kind !== 'message') throw new Error('unexpected error event')
          expect(ev.message.msgType).toBe(msgs[i].msgType)
          expect(equalBytes(ev.message.body, msgs[i].body)).toBe(true)
          expect(ev.message.firstRecord).toBe(recordAt(start))
          expect(ev.message.lastRecord).toBe(recordAt(start + encoded[i].length - 1))
          start += encoded[i].length
        })
      }),
      { numRuns },
    )
  })

  it('turns random fragments into messages and at most one too-large error, never an exception', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 200, size: 'max' }), { maxLength: 8 }), fc.integer({ min: 0, max: 300 }), (frags, max) => {
        const events = readAll(frags, max)
        const errors = events.filter((e) => e.kind === 'error')
        expect(errors.length).toBeLessThanOrEqual(1)
        for (const e of errors) if (e.kind === 'error') expect(e.error.code).toBe('too-large')
        for (const e of events) if (e.kind === 'message') expect(e.message.body.length).toBeLessThanOrEqual(max)
      }),
      { numRuns },
    )
  })
})

describe('dissectTlsConversation properties', () => {
  it('never throws on random or record-framed random streams', () => {
    const framed = fc
      .array(fc.record({ type: fc.integer({ min: 20, max: 24 }), fragment: fc.uint8Array({ maxLength: 200 }) }), { maxLength: 6 })
      .map((rs) => concatBytes(...rs.map((r) => encodeRecord({ ...r, legacyVersion: 0x0303 }))))
    const stream = fc.oneof(fc.uint8Array({ maxLength: 300, size: 'max' }), framed)
    fc.assert(
      fc.property(stream, stream, (c, s) => {
        const d = dissectTlsConversation(c, s)
        for (const dir of [d.client, d.server]) {
          if (dir.error) expect(typeof dir.error.code).toBe('string')
          dir.records.forEach((r, i) => expect(r.index).toBe(i))
        }
      }),
      { numRuns },
    )
  })
})

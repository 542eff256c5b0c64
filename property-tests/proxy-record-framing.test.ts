// record-split's rewrite and the split points: re-framing a ClientHello at any cuts gives valid
// records whose handshake bytes are the original message byte for byte (the ClientHelloGate reads
// the same hello back); the default cuts fall inside the SNI host name, so no record and no TCP
// piece carries the name whole.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concatBytes, equalBytes } from '../src/wire/bytes.js'
import { ClientHelloGate } from '../src/proxy/client-hello-gate.js'
import { handshakeBytesOf, reframeHandshake } from '../src/proxy/record-framing.js'
import { defaultCuts, findName } from '../src/proxy/sni-position.js'
import { framed, helloMessage } from '../src/proxy/testkit/hellos.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000

const input = fc
  .record({ sni: fc.domain().filter((d) => d.length >= 3), keyShareBytes: fc.integer({ min: 1, max: 1300 }), psk: fc.boolean() })
  .chain((shape) => {
    const msg = helloMessage(shape)
    return fc.record({
      shape: fc.constant(shape),
      msg: fc.constant(msg),
      original: fc.array(fc.integer({ min: 1, max: msg.length - 1 }), { maxLength: 3 }),
      cuts: fc.option(fc.array(fc.integer({ min: 1, max: msg.length - 1 }), { maxLength: 5 }), { nil: undefined }),
      rest: fc.uint8Array({ maxLength: 30 }),
    })
  })

describe('record-split framing', () => {
  it('keeps the handshake bytes, uses the cuts given (default: inside the SNI), and the gate reads the same hello', () => {
    fc.assert(
      fc.property(input, ({ shape, msg, original, cuts, rest }) => {
        const raw = concatBytes(framed(msg, [...new Set(original)].sort((a, b) => a - b)), rest)
        const r = reframeHandshake(raw, shape.sni, cuts)
        const back = handshakeBytesOf(r.bytes)
        expect(equalBytes(back.handshake, msg)).toBe(true)
        expect(equalBytes(r.bytes.subarray(back.used), rest)).toBe(true)
        expect(r.records).toBe(r.cuts.length + 1)
        if (cuts === undefined) {
          const span = findName(msg, shape.sni)!
          for (const c of r.cuts) expect(c > span.start && c < span.start + span.length).toBe(true)
          expect(r.records).toBeGreaterThanOrEqual(2)
          // No record's fragment holds the whole name.
          expect(Buffer.from(r.bytes).includes(Buffer.from(shape.sni))).toBe(false)
        }
        const d = new ClientHelloGate().push(r.bytes)
        expect(d?.kind).toBe('client-hello')
        if (d?.kind === 'client-hello') {
          expect(d.sni).toBe(shape.sni)
          expect(d.records).toBe(r.records)
        }
      }),
      { numRuns },
    )
  })

  it('default TCP cuts split the first flight inside the name', () => {
    fc.assert(
      fc.property(input, ({ shape, msg }) => {
        const raw = framed(msg)
        const cuts = defaultCuts(raw, shape.sni)
        const span = findName(raw, shape.sni)!
        expect(cuts.length).toBeGreaterThanOrEqual(1)
        const bounds = [0, ...cuts, raw.length]
        for (let i = 0; i + 1 < bounds.length; i++) {
          expect(Buffer.from(raw.subarray(bounds[i], bounds[i + 1])).includes(Buffer.from(shape.sni))).toBe(false)
        }
        for (const c of cuts) expect(c > span.start && c < span.start + span.length).toBe(true)
      }),
      { numRuns },
    )
  })
})

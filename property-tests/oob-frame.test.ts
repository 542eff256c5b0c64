// OOB helper protocol frames (docs/oob-protocol.md): typed frames encode and decode to the same
// value, byte for byte; any chunking through FrameReader gives the same frames; random and mutated
// bytes give only WireError (never another exception), and never more than one frame is held.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concatBytes, WireError } from '../src/wire/bytes.js'
import { CloseReason, decodeFrame, encodeFrame, FRAME_HEADER_LENGTH, MAX_FRAME_PAYLOAD, type CloseReasonName, type OobFrame } from '../src/proxy/oob/frame.js'
import { FrameReader } from '../src/proxy/oob/frame-reader.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000

const stream = fc.integer({ min: 1, max: 0xffffffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const reason = fc.constantFrom(...(Object.keys(CloseReason) as CloseReasonName[]))
const label = fc.stringMatching(/^[a-z0-9.-]{1,60}$/)
const textUpTo = fc.string({ maxLength: 60 }).filter((s) => new TextEncoder().encode(s).length <= 255)
const bytesN = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })

const frame: fc.Arbitrary<OobFrame> = fc.oneof(
  fc.record({ type: fc.constant('hello' as const), version: fc.integer({ min: 0, max: 255 }), serverNonce: bytesN(32) }),
  fc.record({ type: fc.constant('auth' as const), version: fc.integer({ min: 0, max: 255 }), clientNonce: bytesN(32), mac: bytesN(32) }),
  fc.record({ type: fc.constant('auth-ok' as const), mac: bytesN(32) }),
  fc.record({ type: fc.constant('open' as const), stream, port: fc.integer({ min: 1, max: 65535 }), window: u32, host: label }),
  fc.record({ type: fc.constant('opened' as const), stream, window: u32, address: textUpTo }),
  fc.record({ type: fc.constant('data' as const), stream, data: fc.uint8Array({ minLength: 1, maxLength: 600, size: 'max' }) }),
  fc.record({ type: fc.constant('window' as const), stream, increment: fc.integer({ min: 1, max: 0xffffffff }) }),
  fc.record({ type: fc.constant('close' as const), stream, reason, message: textUpTo }),
  fc.record({ type: fc.constant('resolve' as const), stream, host: label }),
  fc.record({ type: fc.constant('resolved' as const), stream, reason, addresses: fc.array(label, { maxLength: 8 }) }),
  fc.record({ type: fc.constant('ping' as const), ack: fc.boolean(), opaque: bytesN(8) }),
)

describe('OOB frame codec', () => {
  it('a DATA frame is laid out as documented (docs/oob-protocol.md §3 example)', () => {
    // type 0x12, stream 5, length 3, payload "abc"
    expect(Buffer.from(encodeFrame({ type: 'data', stream: 5, data: new Uint8Array([0x61, 0x62, 0x63]) })).toString('hex')).toBe('1200000005000361' + '6263')
  })

  it('round trip: encode → decode gives the frame back, re-encode gives the same bytes', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const b = encodeFrame(f)
        const { frame: g, used } = decodeFrame(b)
        expect(used).toBe(b.length)
        expect(g).toEqual(f)
        expect(encodeFrame(g)).toEqual(b)
      }),
      { numRuns },
    )
  })

  it('FrameReader: any chunking of a frame sequence yields the same frames', () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
        const all = concatBytes(...frames.map((f) => encodeFrame(f)))
        const r = new FrameReader()
        const got: OobFrame[] = []
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b)
        let prev = 0
        for (const p of [...points, all.length]) {
          for (const ev of r.push(all.subarray(prev, p))) {
            expect(ev.kind).toBe('frame')
            if (ev.kind === 'frame') got.push(ev.frame)
          }
          prev = p
        }
        expect(got).toEqual(frames)
        expect(r.buffered).toBe(0)
      }),
      { numRuns },
    )
  })

  it('random and mutated input: only WireError, and the reader holds at most one frame', () => {
    const mutated = frame.chain((f) =>
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((muts) => {
        const b = encodeFrame(f).slice()
        for (const [at, v] of muts) b[at % b.length] = v
        return b
      }),
    )
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300, size: 'max' }), mutated), fc.integer({ min: 0, max: MAX_FRAME_PAYLOAD }), (b, max) => {
        try {
          decodeFrame(b, max)
        } catch (e) {
          expect(e).toBeInstanceOf(WireError)
        }
        const r = new FrameReader(max)
        for (let i = 0; i < b.length; i += 7) {
          for (const ev of r.push(b.subarray(i, i + 7))) if (ev.kind === 'error') expect(ev.error).toBeInstanceOf(WireError)
          expect(r.buffered).toBeLessThanOrEqual(FRAME_HEADER_LENGTH + max + 7)
        }
      }),
      { numRuns },
    )
  })

  it('a header announcing more than the limit is refused before its payload arrives', () => {
    const head = new Uint8Array([0x12, 0, 0, 0, 1, 0xff, 0xff])
    expect(() => decodeFrame(head, 1024)).toThrow(expect.objectContaining({ code: 'too-large' }))
  })
})

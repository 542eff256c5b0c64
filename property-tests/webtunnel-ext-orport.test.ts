// Properties of the Extended ORPort client (src/webtunnel/ext-orport.ts): message round trip,
// only WireError from the codecs, and the engine turns any byte stream from "tor" into events
// (never an exception), authenticates only when the ServerHash is right, and is chunking-blind.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concatBytes, WireError } from '../src/wire/bytes.js'
import {
  decodeExtOrMessage,
  encodeExtOrMessage,
  EXT_OR_COOKIE_HEADER,
  ExtOrCommand,
  ExtOrPortClient,
  extOrServerHash,
  parseExtOrCookieFile,
  type ExtOrClientEvent,
} from '../src/webtunnel/ext-orport.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })

function split(all: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b)
  return [0, ...points, all.length].slice(1).map((end, i, arr) => all.subarray(i === 0 ? 0 : arr[i - 1], end))
}

function run(c: ExtOrPortClient, chunks: Uint8Array[]): ExtOrClientEvent[] {
  return chunks.flatMap((ch) => c.receive(ch))
}

describe('Extended ORPort (properties)', () => {
  it('messages round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 8 }), (command, body, tail) => {
        const enc = encodeExtOrMessage({ command, body })
        expect(decodeExtOrMessage(concatBytes(enc, tail))).toEqual({ message: { command, body }, used: enc.length })
      }),
      { numRuns },
    )
  })

  it('codecs throw only WireError on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100, size: 'max' }), (b) => {
        for (const f of [decodeExtOrMessage, parseExtOrCookieFile]) {
          try {
            f(b)
          } catch (e) {
            expect(e).toBeInstanceOf(WireError)
          }
        }
      }),
      { numRuns },
    )
  })

  it('the engine never throws on what tor might send, and never authenticates without the right ServerHash', () => {
    fc.assert(
      fc.property(bytes32, bytes32, fc.uint8Array({ maxLength: 400, size: 'max' }), fc.array(fc.nat(), { maxLength: 6 }), (cookie, nonce, garbage, cuts) => {
        const c = new ExtOrPortClient({ cookie, clientNonce: nonce, transport: 'webtunnel' })
        const evs = run(c, split(garbage, cuts))
        // A second send (the ClientHash) needs a ServerHash matching the cookie: 2^-256 by chance.
        expect(evs.filter((e) => e.kind === 'send').length).toBeLessThanOrEqual(1)
        expect(evs.some((e) => e.kind === 'okay')).toBe(false)
      }),
      { numRuns },
    )
  })

  it('a correct tor transcript authenticates however it is chunked; a one-bit change in the hash never does', () => {
    fc.assert(
      fc.property(bytes32, bytes32, bytes32, fc.array(fc.nat(), { maxLength: 8 }), fc.option(fc.nat({ max: 255 }), { nil: undefined }), (cookie, cn, sn, cuts, flip) => {
        const hash = extOrServerHash(cookie, cn, sn)
        if (flip !== undefined) hash[flip >> 3] ^= 1 << (flip & 7)
        const tor = concatBytes(Uint8Array.of(2, 1, 0), hash, sn, Uint8Array.of(1), encodeExtOrMessage({ command: ExtOrCommand.OKAY, body: new Uint8Array(0) }))
        const evs = run(new ExtOrPortClient({ cookie, clientNonce: cn, userAddr: '127.0.0.1:1', transport: 'webtunnel' }), split(tor, cuts))
        expect(evs.some((e) => e.kind === 'okay')).toBe(flip === undefined)
        if (flip !== undefined) expect(evs.at(-1)?.kind).toBe('error')
      }),
      { numRuns },
    )
  })

  it('cookie files round-trip', () => {
    fc.assert(fc.property(bytes32, (cookie) => {
      expect(parseExtOrCookieFile(concatBytes(EXT_OR_COOKIE_HEADER, cookie))).toEqual(cookie)
    }), { numRuns })
  })
})

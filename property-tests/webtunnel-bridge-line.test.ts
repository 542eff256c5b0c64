// Properties of bridge lines and PT argument strings (src/webtunnel/bridge-line.ts, pt/args.ts):
// round trips, and only WireError on random or mutated text.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WireError } from '../src/wire/bytes.js'
import { formatBridgeLine, parseBridgeLine, type BridgeLine } from '../src/webtunnel/bridge-line.js'
import { decodeServerTransportOptions, decodeSocksArgs, encodeSocksArgs, socksArgsFromCredentials, socksCredentialsForArgs, type PtArgs } from '../src/webtunnel/pt/args.js'
import { placeholderAddress } from '../src/webtunnel/placeholder-address.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000
const chars = (alphabet: string, min: number, max: number) =>
  fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) => a.join(''))
const KEY = 'abcdefghijklmnopqrstuvwxyz-_0123456789'
const VALUE = KEY + "ABCXYZ:/.?&=+,;\\%'\""

const args: fc.Arbitrary<PtArgs> = fc.array(fc.tuple(chars(KEY, 1, 12), chars(VALUE, 0, 30)), { maxLength: 6 })
const line: fc.Arbitrary<BridgeLine> = fc.record({
  transport: fc.constantFrom('webtunnel', 'obfs4', 'meek_lite'),
  address: fc.oneof(chars('abcdef0123456789', 1, 20).map((s) => placeholderAddress(s)), fc.constantFrom('192.0.2.1', '10.0.0.2')),
  port: fc.integer({ min: 1, max: 65535 }),
  fingerprint: fc.option(chars('0123456789ABCDEF', 40, 40), { nil: undefined }),
  args,
})

const onlyWireError = (f: () => unknown) => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(WireError)
  }
}

describe('bridge lines and PT arguments (properties)', () => {
  it('bridge lines round-trip', () => {
    fc.assert(fc.property(line, (b) => {
      expect(parseBridgeLine(formatBridgeLine(b))).toEqual(b)
    }), { numRuns })
  })

  it('bridge-line parsing throws only WireError on random and mutated text', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200, unit: 'binary' }),
      fc.tuple(line.map(formatBridgeLine), fc.nat(), fc.string({ maxLength: 3 })).map(([s, at, ins]) => s.slice(0, at % (s.length + 1)) + ins + s.slice((at % (s.length + 1)) + 1)),
    )
    fc.assert(fc.property(text, (t) => onlyWireError(() => parseBridgeLine(t))), { numRuns })
  })

  it('SOCKS arguments round-trip through the escaped form and the username/password split', () => {
    fc.assert(
      fc.property(args.filter((a) => a.length > 0 && encodeSocksArgs(a).length <= 510), (a) => {
        expect(decodeSocksArgs(encodeSocksArgs(a))).toEqual(a)
        const { username, password } = socksCredentialsForArgs(a)
        expect(username.length).toBeLessThanOrEqual(255)
        expect(socksArgsFromCredentials(username, password)).toEqual(a)
      }),
      { numRuns },
    )
  })

  it('argument strings throw only WireError on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (t) => {
        onlyWireError(() => decodeSocksArgs(t))
        onlyWireError(() => decodeServerTransportOptions(t, 'webtunnel'))
      }),
      { numRuns },
    )
  })
})

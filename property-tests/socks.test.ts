// Properties of the SOCKS codecs (src/wire/socks): round trip, only-WireError on random and
// mutated input, and the server handshake engine's independence from how bytes are chunked.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concatBytes, WireError } from '../src/wire/bytes.js'
import {
  ATYP,
  decodeClientGreeting,
  decodeMethodSelection,
  decodeSocks4Reply,
  decodeSocks4Request,
  decodeSocks5Reply,
  decodeSocks5Request,
  decodeUserPassRequest,
  decodeUserPassResponse,
  encodeClientGreeting,
  encodeMethodSelection,
  encodeSocks4Reply,
  encodeSocks4Request,
  encodeSocks5Reply,
  encodeSocks5Request,
  encodeUserPassRequest,
  encodeUserPassResponse,
  ipv4ToText,
  ipv6ToText,
  MAX_CLIENT_GREETING_BYTES,
  MAX_SOCKS4_REQUEST_BYTES,
  MAX_SOCKS5_REQUEST_BYTES,
  MAX_USERPASS_REQUEST_BYTES,
  SocksServerHandshake,
  type SocksServerEvent,
  type SocksServerOptions,
  type Socks4Request,
} from '../src/wire/socks/index.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000

const u8 = fc.integer({ min: 0, max: 255 })
const u16 = fc.integer({ min: 0, max: 0xffff })
// Strings drawn as byte arrays (much faster than char-by-char at 10,000 runs).
const latin1 = (b: Uint8Array) => String.fromCharCode(...b)
const domain = fc
  .uint8Array({ minLength: 1, maxLength: 255, size: 'max' })
  .map((b) => latin1(b.map((x) => 0x21 + (x % 94)))) // printable ASCII without space
const octets = (maxLength: number) => fc.uint8Array({ maxLength, size: 'max' }).map(latin1)
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map(ipv4ToText)
const ipv6 = fc
  .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }).map((z) => z.map((b) => (b < 128 ? 0 : b))))
  .map(([a, b]) => ipv6ToText(a[0] & 1 ? a : b)) // half with many zero groups, to exercise "::"
const address = fc.oneof(
  fc.record({ atyp: fc.constant<number>(ATYP.ipv4), addr: ipv4 }),
  fc.record({ atyp: fc.constant<number>(ATYP.domainName), addr: domain }),
  fc.record({ atyp: fc.constant<number>(ATYP.ipv6), addr: ipv6 }),
)

const greeting = fc.record({ ver: fc.constant(5), methods: fc.array(u8, { minLength: 1, maxLength: 255, size: 'max' }) })
const userPass = fc.record({ ver: fc.constant(1), uname: octets(255), passwd: octets(255) })
const socks5Request = fc
  .tuple(u8, u8, address, u16)
  .map(([cmd, rsv, a, dstPort]) => ({ ver: 5, cmd, rsv, atyp: a.atyp, dstAddr: a.addr, dstPort }))
const socks5Reply = fc
  .tuple(u8, u8, address, u16)
  .map(([rep, rsv, a, bndPort]) => ({ ver: 5, rep, rsv, atyp: a.atyp, bndAddr: a.addr, bndPort }))
const socks4Request: fc.Arbitrary<Socks4Request> = fc
  .tuple(u8, u16, fc.option(domain, { nil: undefined }), ipv4, fc.integer({ min: 1, max: 255 }), octets(255))
  .map(([cd, dstPort, dom, ip, x, rawUser]) => {
    const userId = rawUser.replaceAll('\0', '.')
    if (dom !== undefined) return { vn: 4, cd, dstPort, dstIp: `0.0.0.${x}`, userId, domain: dom }
    const plain = ip.startsWith('0.0.0.') ? '0.0.0.0' : ip
    return { vn: 4, cd, dstPort, dstIp: plain, userId }
  })
const socks4Reply = fc.record({ vn: fc.constant(0), cd: u8, dstPort: u16, dstIp: ipv4 })

interface Codec<T> {
  name: string
  arb: fc.Arbitrary<T>
  encode(v: T): Uint8Array
  decode(b: Uint8Array): { value: T; used: number }
}
const codecs: Codec<any>[] = [
  { name: 'client greeting', arb: greeting, encode: encodeClientGreeting, decode: (b) => rename(decodeClientGreeting(b), 'greeting') },
  { name: 'method selection', arb: fc.record({ ver: fc.constant(5), method: u8 }), encode: encodeMethodSelection, decode: (b) => rename(decodeMethodSelection(b), 'selection') },
  { name: 'RFC 1929 request', arb: userPass, encode: encodeUserPassRequest, decode: (b) => rename(decodeUserPassRequest(b), 'request') },
  { name: 'RFC 1929 response', arb: fc.record({ ver: fc.constant(1), status: u8 }), encode: encodeUserPassResponse, decode: (b) => rename(decodeUserPassResponse(b), 'response') },
  { name: 'SOCKS5 request', arb: socks5Request, encode: encodeSocks5Request, decode: (b) => rename(decodeSocks5Request(b), 'request') },
  { name: 'SOCKS5 reply', arb: socks5Reply, encode: encodeSocks5Reply, decode: (b) => rename(decodeSocks5Reply(b), 'reply') },
  { name: 'SOCKS4 request', arb: socks4Request, encode: encodeSocks4Request, decode: (b) => rename(decodeSocks4Request(b), 'request') },
  { name: 'SOCKS4 reply', arb: socks4Reply, encode: encodeSocks4Reply, decode: (b) => rename(decodeSocks4Reply(b), 'reply') },
]

function rename<K extends string>(r: { used: number } & Record<K, unknown>, key: K): { value: any; used: number } {
  return { value: r[key], used: r.used }
}

/** Random edits of a valid encoding: flipped bytes, a cut, an insertion. */
const mutation = fc.record({
  flips: fc.array(fc.tuple(fc.nat(), u8), { maxLength: 4 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
  insert: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 300 })), { nil: undefined }),
})
function mutate(b: Uint8Array, m: { flips: [number, number][]; cut?: number; insert?: [number, Uint8Array] }): Uint8Array {
  let out: Uint8Array = b.slice()
  for (const [at, v] of m.flips) if (out.length) out[at % out.length] = v
  if (m.insert) {
    const at = m.insert[0] % (out.length + 1)
    out = concatBytes(out.subarray(0, at), m.insert[1], out.subarray(at))
  }
  if (m.cut !== undefined) out = out.subarray(0, m.cut % (out.length + 1))
  return out
}

function onlyWireError(fn: () => unknown): void {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(WireError)
  }
}

describe('SOCKS codecs', () => {
  for (const c of codecs) {
    describe(c.name, () => {
      it('round-trips, using exactly its own bytes', () => {
        fc.assert(
          fc.property(c.arb, fc.uint8Array({ maxLength: 8 }), (v, tail) => {
            const bytes = c.encode(v)
            const { value, used } = c.decode(concatBytes(bytes, tail))
            expect(value).toEqual(v)
            expect(used).toBe(bytes.length)
          }),
          { numRuns },
        )
      })
      it('throws only WireError on random or mutated valid input, and re-encodes whatever it accepts', () => {
        const input = fc.oneof(
          fc.uint8Array({ maxLength: 600, size: 'max' }),
          fc.tuple(c.arb, mutation).map(([v, m]) => mutate(c.encode(v), m)),
        )
        fc.assert(
          fc.property(input, (b) => {
            let decoded: { value: any; used: number } | undefined
            onlyWireError(() => (decoded = c.decode(b)))
            if (decoded) expect(c.encode(decoded.value)).toEqual(b.subarray(0, decoded.used))
          }),
          { numRuns },
        )
      })
    })
  }
})

// ---- the server handshake engine ----

interface Script {
  options: SocksServerOptions
  stream: Uint8Array
}

// Scripts use only commands the engine knows, so every one ends in a request.
const knownCmd5 = fc.constantFrom(0x01, 0x02, 0x03, 0xf0, 0xf1)
const knownCmd4 = fc.constantFrom(0x01, 0x02, 0xf0, 0xf1)

const script: fc.Arbitrary<Script> = fc.oneof(
  fc.tuple(fc.boolean(), userPass, socks5Request, knownCmd5, fc.uint8Array({ maxLength: 64 })).map(([useAuth, up, req0, cmd, data]) => {
    const req = { ...req0, cmd }
    return {
    options: useAuth
      ? ({ methods: ['username-password'], credentials: 'accept-any' } as SocksServerOptions)
      : ({ methods: ['no-auth'] } as SocksServerOptions),
    stream: concatBytes(
      encodeClientGreeting({ ver: 5, methods: useAuth ? [0, 2] : [0] }),
      useAuth ? encodeUserPassRequest(up) : new Uint8Array(0),
      encodeSocks5Request(req),
      data,
    ),
    }
  }),
  fc.tuple(socks4Request, knownCmd4, fc.uint8Array({ maxLength: 64 })).map(([req, cd, data]) => ({
    options: { methods: ['no-auth'] } as SocksServerOptions,
    stream: concatBytes(encodeSocks4Request({ ...req, cd }), data),
  })),
)

/** A driver: feeds chunks until the engine finishes, then keeps later chunks as stream data. */
function drive(s: Script, chunks: Uint8Array[]): { events: SocksServerEvent[]; maxBuffered: number } {
  const hs = new SocksServerHandshake(s.options)
  const events: SocksServerEvent[] = []
  let maxBuffered = 0
  let after: Uint8Array[] = []
  for (const c of chunks) {
    if (hs.finished) {
      after.push(c)
      continue
    }
    events.push(...hs.receive(c))
    maxBuffered = Math.max(maxBuffered, hs.buffered)
  }
  const last = events.at(-1)
  if (last?.kind === 'request') events[events.length - 1] = { ...last, leftover: concatBytes(last.leftover, ...after) }
  else after = []
  return { events, maxBuffered }
}

function split(b: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y)
  return [0, ...points, b.length].slice(1).map((end, i, arr) => b.slice(i === 0 ? 0 : arr[i - 1], end))
}

const LARGEST = Math.max(MAX_CLIENT_GREETING_BYTES, MAX_USERPASS_REQUEST_BYTES, MAX_SOCKS5_REQUEST_BYTES, MAX_SOCKS4_REQUEST_BYTES)

describe('SocksServerHandshake', () => {
  it('gives the same events and leftover for any chunking, byte-by-byte included', () => {
    fc.assert(
      fc.property(script, fc.array(fc.nat(), { maxLength: 12 }), (s, cuts) => {
        const whole = drive(s, [s.stream])
        const last = whole.events.at(-1)
        expect(last?.kind).toBe('request')
        const split1 = drive(s, split(s.stream, cuts))
        expect(split1.events).toEqual(whole.events)
        const bytewise = drive(s, [...s.stream].map((b) => Uint8Array.of(b)))
        expect(bytewise.events).toEqual(whole.events)
        expect(bytewise.maxBuffered).toBeLessThan(LARGEST)
      }),
      { numRuns },
    )
  })

  it('returns the bytes after the request exactly', () => {
    fc.assert(
      fc.property(script, fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.nat(), (s, data, cut) => {
        const stream = concatBytes(s.stream, data)
        const { events } = drive(s, split(stream, [cut]))
        const req = events.at(-1)
        expect(req?.kind === 'request' && req.leftover.subarray(req.leftover.length - data.length)).toEqual(data)
      }),
      { numRuns },
    )
  })

  it('on mutated or random streams yields only events, ending in at most one error, with bounded buffering', () => {
    const input = fc.oneof(
      fc.tuple(script, mutation).map(([s, m]) => ({ options: s.options, stream: mutate(s.stream, m) })),
      fc.uint8Array({ maxLength: 1200, size: 'max' }).map((stream) => ({ options: { methods: ['no-auth'] } as SocksServerOptions, stream })),
    )
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 12 }), (s, cuts) => {
        const whole = drive(s, [s.stream])
        const pieces = drive(s, split(s.stream, cuts))
        expect(pieces.events).toEqual(whole.events)
        expect(pieces.maxBuffered).toBeLessThan(LARGEST)
        const errors = whole.events.filter((e) => e.kind === 'error')
        expect(errors.length).toBeLessThanOrEqual(1)
        if (errors.length) {
          expect(whole.events.at(-1)?.kind).toBe('error')
          expect((errors[0] as { error: unknown }).error).toBeInstanceOf(WireError)
        }
      }),
      { numRuns },
    )
  })
})

// Properties of the HTTP/1.1 head codecs (src/wire/http): round trip with the body untouched,
// only WireError on random and mutated input, and stream consistency: any prefix of any input
// says `truncated` or exactly what the whole says, and never `truncated` past maxHeadBytes.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concatBytes, WireError } from '../src/wire/bytes.js'
import {
  encodeRequestHead,
  encodeResponseHead,
  parseRequestHead,
  parseResponseHead,
  type HeadLimits,
  type HeaderField,
  type RequestHeadFields,
  type ResponseHeadFields,
} from '../src/wire/http/index.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
const fromAlphabet = (alphabet: string, minLength: number, maxLength: number) =>
  fc.uint8Array({ minLength, maxLength }).map((b) => Array.from(b, (x) => alphabet[x % alphabet.length]).join(''))
const token = (max: number) => fromAlphabet(TCHARS, 1, max)

// field-value octets: HTAB, SP, VCHAR, obs-text; never starting or ending with whitespace.
const valueChar = (x: number) => (x < 0x21 ? 0x21 + x : x === 0x7f ? 0x7e : x)
const fieldValue = fc
  .uint8Array({ maxLength: 60 })
  .map((b) => String.fromCharCode(...b.map((x, i) => (i === 0 || i === b.length - 1 ? valueChar(x) : x % 7 === 0 ? 0x20 : valueChar(x)))))

const RESERVED = ['host', 'content-length', 'transfer-encoding']
const extraField: fc.Arbitrary<HeaderField> = fc
  .tuple(token(20), fieldValue)
  .filter(([n]) => !RESERVED.includes(n.toLowerCase()))
  .map(([n, v]) => [n, v])

const host = fromAlphabet('abcdefghijklmnopqrstuvwxyz0123456789-.', 1, 30)
const port = fc.integer({ min: 1, max: 65535 })
const path = fromAlphabet("abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%", 0, 40).map((p) => `/${p}`)
const methodAndTarget = fc.oneof(
  fc.tuple(token(10).filter((m) => m !== 'CONNECT' && m !== 'OPTIONS'), path),
  fc.tuple(token(10).filter((m) => m !== 'CONNECT'), fc.tuple(host, path).map(([h, p]) => `http://${h}${p}`)),
  fc.tuple(fc.constant('OPTIONS'), fc.constant('*')),
  fc.tuple(fc.constant('CONNECT'), fc.oneof(fc.tuple(host, port).map(([h, p]) => `${h}:${p}`), port.map((p) => `[2001:db8::1]:${p}`))),
)

const requestHead: fc.Arbitrary<RequestHeadFields> = fc
  .tuple(methodAndTarget, fc.constantFrom('HTTP/1.1', 'HTTP/1.0'), host, fc.array(extraField, { maxLength: 12 }), fc.nat(), fc.option(fc.nat({ max: 1e6 }), { nil: undefined }))
  .map(([[method, target], version, h, extra, at, length]) => {
    const headers = [...extra]
    headers.splice(at % (headers.length + 1), 0, ['Host', h])
    if (length !== undefined) headers.push(['Content-Length', String(length)])
    return { method, target, version, headers }
  })

const responseHead: fc.Arbitrary<ResponseHeadFields> = fc.record({
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0'),
  status: fc.integer({ min: 100, max: 599 }),
  reason: fc.oneof(fc.constant(''), fieldValue),
  headers: fc.array(extraField, { maxLength: 12 }),
})

const limits: fc.Arbitrary<HeadLimits> = fc.record({
  maxHeadBytes: fc.integer({ min: 16, max: 1200 }),
  maxHeaders: fc.integer({ min: 0, max: 16 }),
  maxLineBytes: fc.integer({ min: 8, max: 300 }),
})

/** Edits that reach past the first line: HTTP's own delimiters spliced in at random places. */
const DELIMS = ['\r\n', '\r', '\n', ' ', ':', '\t', '\0', '\r\n\r\n', ' \r\n', ',', '\x7f', '\xff']
const mutation = fc.array(
  fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...DELIMS), fc.uint8Array({ maxLength: 3 }).map((b) => String.fromCharCode(...b))), fc.nat({ max: 3 })),
  { minLength: 1, maxLength: 4 },
)
function mutate(b: Uint8Array, edits: [number, string, number][]): Uint8Array {
  let out = b
  for (const [at, text, del] of edits) {
    const i = at % (out.length + 1)
    out = concatBytes(out.subarray(0, i), Uint8Array.from(text, (c) => c.charCodeAt(0)), out.subarray(Math.min(out.length, i + del)))
  }
  return out
}

type Parse = (b: Uint8Array, l?: Partial<HeadLimits>) => { used: number }
function outcome(parse: Parse, b: Uint8Array, l?: Partial<HeadLimits>): string {
  try {
    return `ok ${parse(b, l).used}`
  } catch (e) {
    expect(e).toBeInstanceOf(WireError)
    return (e as WireError).code
  }
}

const body = fc.uint8Array({ maxLength: 40 })

const suites: { name: string; parse: Parse; encode: (h: any) => Uint8Array; arb: fc.Arbitrary<any> }[] = [
  { name: 'request head', parse: parseRequestHead, encode: encodeRequestHead, arb: requestHead },
  { name: 'response head', parse: parseResponseHead, encode: encodeResponseHead, arb: responseHead },
]

for (const s of suites) {
  describe(`HTTP ${s.name}`, () => {
    it('round-trips, with `used` exactly at the body', () => {
      fc.assert(
        fc.property(s.arb, body, (h, b) => {
          const wire = s.encode(h)
          const { head, used } = s.parse(concatBytes(wire, b)) as { head: any; used: number }
          expect(used).toBe(wire.length)
          for (const k of Object.keys(h)) expect(head[k]).toEqual(h[k])
          expect(s.encode(head)).toEqual(wire)
        }),
        { numRuns },
      )
    })

    it('throws only WireError on random or mutated input, and re-encodes whatever it accepts', () => {
      const input = fc.oneof(
        fc.uint8Array({ maxLength: 2000, size: 'max' }),
        fc.tuple(s.arb, body, mutation).map(([h, b, m]) => mutate(concatBytes(s.encode(h), b), m)),
      )
      fc.assert(
        fc.property(input, (b) => {
          let r: { head?: any; used: number } | undefined
          try {
            r = s.parse(b)
          } catch (e) {
            expect(e).toBeInstanceOf(WireError)
          }
          if (!r) return
          // OWS and leading empty lines are not kept, so compare heads, not bytes.
          const again = s.encode(r.head)
          const back = s.parse(again) as { head: any; used: number }
          expect(back.used).toBe(again.length)
          for (const k of Object.keys(r.head)) expect(back.head[k]).toEqual(r.head[k])
        }),
        { numRuns },
      )
    })

    it('any prefix says truncated or what the whole says; never truncated past maxHeadBytes', () => {
      const input = fc.tuple(s.arb, body, fc.option(mutation, { nil: undefined })).map(([h, b, m]) => {
        const whole = concatBytes(s.encode(h), b)
        return m ? mutate(whole, m) : whole
      })
      fc.assert(
        fc.property(input, fc.option(limits, { nil: undefined }), fc.nat(), (b, l, cut) => {
          const whole = outcome(s.parse, b, l)
          const prefix = b.subarray(0, cut % (b.length + 1))
          const part = outcome(s.parse, prefix, l)
          if (part !== 'truncated') expect(part).toBe(whole)
          else expect(prefix.length).toBeLessThan(l?.maxHeadBytes ?? 16 * 1024)
          if (whole.startsWith('ok ') && prefix.length < Number(whole.slice(3))) expect(part).toBe('truncated')
        }),
        { numRuns },
      )
    })
  })
}

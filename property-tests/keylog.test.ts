// Key log round trip (format then parse) and only WireError on arbitrary text.

import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { toHex, WireError } from '../src/wire/bytes.js'
import { formatKeylog, KEYLOG_LABELS, type KeylogSecrets, parseKeylog } from '../src/wire/keylog.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000

const secretsArb: fc.Arbitrary<KeylogSecrets> = fc
  .subarray([...KEYLOG_LABELS], { minLength: 1 })
  .chain((labels) =>
    fc.tuple(...labels.map((l) => fc.uint8Array({ minLength: l === 'CLIENT_RANDOM' ? 48 : 32, maxLength: 48 }))).map((secrets) =>
      Object.fromEntries(labels.map((l, i) => [l, secrets[i]])),
    ),
  )

describe('keylog properties', () => {
  it('parses what it formats', () => {
    const entries = fc.uniqueArray(fc.tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex), secretsArb), {
      maxLength: 4,
      selector: ([r]) => r,
    })
    fc.assert(
      fc.property(entries, (list) => {
        const map = new Map(list)
        const back = parseKeylog(formatKeylog(map))
        expect([...back.keys()].sort()).toEqual([...map.keys()].sort())
        for (const [random, secrets] of map) {
          const got = back.get(random)!
          expect(Object.keys(got).sort()).toEqual(Object.keys(secrets).sort())
          for (const [label, s] of Object.entries(secrets)) expect(toHex(got[label as keyof KeylogSecrets]!)).toBe(toHex(s!))
        }
      }),
      { numRuns },
    )
  })

  it('throws only WireError on arbitrary and mutated text', () => {
    const line = fc.tuple(fc.constantFrom(...KEYLOG_LABELS, 'RSA', '#'), fc.string({ unit: fc.constantFrom(...'0123456789abcdefxyz '), maxLength: 140 }))
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.array(line, { maxLength: 5 }).map((ls) => ls.map(([l, rest]) => `${l} ${rest}`).join('\n')))
    fc.assert(
      fc.property(text, (t) => {
        try {
          parseKeylog(t)
        } catch (e) {
          if (!(e instanceof WireError)) throw e
          expect(e.message).toMatch(/keylog line \d+/)
        }
      }),
      { numRuns },
    )
  })
})

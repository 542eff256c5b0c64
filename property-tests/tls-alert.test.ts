// Alert round trip and typed errors on any input.

import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { WireError } from '../src/wire/bytes.js'
import { decodeAlert, encodeAlert } from '../src/wire/tls/alert.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000

describe('Alert properties', () => {
  it('round-trips any alert', () => {
    const alert = fc.record({ level: fc.constantFrom(1, 2), description: fc.integer({ min: 0, max: 255 }) })
    fc.assert(
      fc.property(alert, (a) => {
        expect(decodeAlert(encodeAlert(a))).toEqual(a)
      }),
      { numRuns },
    )
  })

  it('throws only WireError on any input, and accepts exactly the two-byte alerts with level 1 or 2', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6, size: 'max' }), (b) => {
        let ok = true
        try {
          decodeAlert(b)
        } catch (e) {
          if (!(e instanceof WireError)) throw e
          ok = false
        }
        expect(ok).toBe(b.length === 2 && (b[0] === 1 || b[0] === 2))
      }),
      { numRuns },
    )
  })
})

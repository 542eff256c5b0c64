// TLS 1.3 record protection: seal/open round trip for every suite, sequence number and padding;
// any tampering or any random ciphertext gives only RecordProtectionError.

import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { equalBytes } from '../src/wire/bytes.js'
import { TLS13_CIPHER_SUITES } from '../src/crypto/tls13/cipher-suites.js'
import { trafficKeys } from '../src/crypto/tls13/key-schedule.js'
import { decryptRecord, encryptRecord, RecordProtectionError } from '../src/crypto/tls13/record-protection.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000
const suites = [...TLS13_CIPHER_SUITES.values()]

const sealed = fc.record({
  suite: fc.constantFrom(...suites),
  secret: fc.uint8Array({ minLength: 48, maxLength: 48 }),
  seq: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  type: fc.integer({ min: 1, max: 255 }),
  content: fc.uint8Array({ maxLength: 400 }),
  padding: fc.integer({ min: 0, max: 64 }),
})

describe('TLS 1.3 record protection properties', () => {
  it('opens what it seals', () => {
    fc.assert(
      fc.property(sealed, ({ suite, secret, seq, type, content, padding }) => {
        const keys = trafficKeys(suite, secret.subarray(0, suite.hashLength))
        const rec = encryptRecord(suite, keys, seq, type, content, padding)
        const inner = decryptRecord(suite, keys, seq, rec)
        expect([inner.type, inner.padding]).toEqual([type, padding])
        expect(equalBytes(inner.content, content)).toBe(true)
      }),
      { numRuns },
    )
  })

  it('gives only RecordProtectionError for tampered or random records', () => {
    const tampered = fc.tuple(sealed, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean())
    fc.assert(
      fc.property(tampered, fc.uint8Array({ maxLength: 100, size: 'max' }), ([s, at, xor, wrongSeq], random) => {
        const keys = trafficKeys(s.suite, s.secret.subarray(0, s.suite.hashLength))
        const rec = encryptRecord(s.suite, keys, s.seq, s.type, s.content, s.padding)
        const fragment = rec.fragment.slice()
        if (!wrongSeq) fragment[at % fragment.length] ^= xor
        const seq = wrongSeq ? s.seq ^ 1n : s.seq
        for (const f of [fragment, random]) {
          try {
            decryptRecord(s.suite, keys, seq, { ...rec, fragment: f })
            expect.unreachable('a tampered record opened')
          } catch (e) {
            if (!(e instanceof RecordProtectionError)) throw e
          }
        }
      }),
      { numRuns },
    )
  })
})

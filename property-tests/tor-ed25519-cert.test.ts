// Properties of Tor's certificate codecs (src/wire/tor/ed25519-cert.ts): Ed25519 certificates and
// RSA->Ed25519 cross-certificates round-trip, and random or mutated input gives only WireError.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { toHex } from '../src/wire/bytes.js'
import {
  EXT_SIGNED_WITH_ED25519_KEY,
  decodeEd25519Cert,
  decodeRsaEd25519CrossCert,
  encodeEd25519Cert,
  encodeRsaEd25519CrossCert,
  type CertExtension,
} from '../src/wire/tor/ed25519-cert.js'
import { mutate, mutation, onlyWireError } from './support.js'

const RUNS = process.env.SULTRY_QUICK === '1' ? 300 : 10_000

const u8 = fc.integer({ min: 0, max: 0xff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const exact = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
const bytes = (maxLength: number) => fc.uint8Array({ maxLength, size: 'max' })

const extension: fc.Arbitrary<CertExtension> = fc.oneof(
  fc.record({ extType: fc.constant(EXT_SIGNED_WITH_ED25519_KEY), extFlags: u8, extData: exact(32) }),
  fc.record({ extType: u8.filter((t) => t !== EXT_SIGNED_WITH_ED25519_KEY), extFlags: u8, extData: bytes(80) }),
)

const certArb = fc.record({
  certType: u8,
  expirationHours: u32,
  certKeyType: u8,
  certifiedKey: exact(32),
  extensions: fc.array(extension, { maxLength: 5, size: 'max' }),
  signature: exact(64),
})

const crossCertArb = fc.record({ ed25519Key: exact(32), expirationHours: u32, signature: bytes(255) })

/** Byte arrays as hex: vitest's deep equality over typed arrays is slow enough to dominate 10k runs. */
const show = (v: unknown) => JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? toHex(x) : x))

describe('Ed25519 certificates', () => {
  it('round-trip, and `signed` is exactly the bytes before the signature', () => {
    fc.assert(
      fc.property(certArb, (c) => {
        const wire = encodeEd25519Cert(c)
        const got = decodeEd25519Cert(wire)
        const { signed, version, ...fields } = got
        expect(version).toBe(1)
        expect(show(fields)).toBe(show(c))
        expect(toHex(signed)).toBe(toHex(wire.subarray(0, wire.length - 64)))
        expect(toHex(encodeEd25519Cert(got))).toBe(toHex(wire))
      }),
      { numRuns: RUNS },
    )
  })

  it('random and mutated input gives a certificate or a WireError, nothing else', () => {
    const input = fc.oneof(
      bytes(400),
      fc.tuple(certArb, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([c, ms]) => mutate(encodeEd25519Cert(c), ms)),
    )
    fc.assert(
      fc.property(input, (b) => onlyWireError(() => decodeEd25519Cert(b))),
      { numRuns: RUNS },
    )
  })
})

describe('RSA->Ed25519 cross-certificates', () => {
  it('round-trip', () => {
    fc.assert(
      fc.property(crossCertArb, (c) => {
        const wire = encodeRsaEd25519CrossCert(c)
        const { signed, ...fields } = decodeRsaEd25519CrossCert(wire)
        expect(show(fields)).toBe(show(c))
        expect(toHex(signed)).toBe(toHex(wire.subarray(0, 36)))
      }),
      { numRuns: RUNS },
    )
  })

  it('random and mutated input gives a cross-certificate or a WireError, nothing else', () => {
    const input = fc.oneof(
      bytes(400),
      fc.tuple(crossCertArb, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([c, ms]) => mutate(encodeRsaEd25519CrossCert(c), ms)),
    )
    fc.assert(
      fc.property(input, (b) => onlyWireError(() => decodeRsaEd25519CrossCert(b))),
      { numRuns: RUNS },
    )
  })
})

import { createPublicKey, sign, verify } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { RngStream } from '../net/sim/rng.js'
import {
  bitLength,
  generateRsaKeyParts,
  generateRsaPrivateKey,
  isProbablePrime,
  millerRabin,
  modInverse,
  modPow,
  randomPrime,
} from './rsa-keygen.js'

const seeded = (seed: number, name = 'rsa') => {
  const s = new RngStream(seed, name)
  return (n: number) => s.bytes(n)
}

// Plain trial division, independent of the module under test, for the small-number facts below.
function isPrimeByTrialDivision(n: number): boolean {
  if (n < 2) return false
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false
  return true
}

describe('modPow and modInverse', () => {
  it('agree with repeated multiplication and with the definition of an inverse', () => {
    const m = 1_000_003n
    let slow = 1n
    for (let e = 0n; e < 300n; e++) {
      expect(modPow(12345n, e, m)).toBe(slow)
      slow = (slow * 12345n) % m
    }
    const inv = modInverse(65537n, 2n ** 127n - 2n)
    expect((inv * 65537n) % (2n ** 127n - 2n)).toBe(1n)
    expect(() => modInverse(6n, 9n)).toThrow(RangeError)
  })
})

describe('Miller–Rabin', () => {
  // Carmichael numbers (OEIS A002997) fool the Fermat test for every coprime base.
  const smallCarmichael = [561n, 1105n, 1729n, 2465n, 2821n, 6601n, 8911n, 10585n, 15841n, 29341n, 41041n, 62745n]

  it('rejects small Carmichael numbers although they pass the Fermat test', () => {
    for (const n of smallCarmichael) {
      expect(modPow(2n, n - 1n, n)).toBe(1n) // the trap is real (all are odd, coprime to 2)
      expect(millerRabin(n, seeded(Number(n)), 20)).toBe(false)
      expect(isProbablePrime(n, seeded(1), 20)).toBe(false)
    }
  })

  it('rejects large Chernick Carmichael numbers, whose factors all exceed the trial-division bound', () => {
    // Chernick (1939): if 6k+1, 12k+1 and 18k+1 are all prime, their product is a Carmichael number.
    const found: bigint[] = []
    for (let k = 400; found.length < 3; k++) {
      if ([6 * k + 1, 12 * k + 1, 18 * k + 1].every(isPrimeByTrialDivision)) {
        found.push(BigInt(6 * k + 1) * BigInt(12 * k + 1) * BigInt(18 * k + 1))
      }
    }
    for (const n of found) {
      expect(modPow(3n, n - 1n, n)).toBe(1n)
      expect(isProbablePrime(n, seeded(7), 20)).toBe(false)
    }
  })

  it('rejects the strong pseudoprime 3215031751 (to bases 2, 3, 5, 7) and a product of two large primes', () => {
    // 3215031751 = 151 * 751 * 28351, the least strong pseudoprime to bases 2, 3, 5 and 7 (Pomerance, Selfridge, Wagstaff 1980).
    expect(millerRabin(3215031751n, seeded(3), 20)).toBe(false)
    const p = 2n ** 127n - 1n
    const q = 2n ** 89n - 1n
    expect(isProbablePrime(p * q, seeded(4), 10)).toBe(false)
  })

  it('accepts known primes: Mersenne primes 2^89-1, 2^127-1, 2^521-1, 2^607-1 and 2^255-19', () => {
    for (const p of [2n ** 89n - 1n, 2n ** 127n - 1n, 2n ** 521n - 1n, 2n ** 607n - 1n, 2n ** 255n - 19n]) {
      expect(isProbablePrime(p, seeded(5), 20)).toBe(true)
    }
  })

  it('classifies every integer below 5000 as trial division does', () => {
    const random = seeded(6)
    for (let n = 0; n < 5000; n++) expect(isProbablePrime(BigInt(n), random, 10)).toBe(isPrimeByTrialDivision(n))
  })
})

describe('randomPrime', () => {
  it('gives a prime of exactly the asked size with the top two bits set and p-1 coprime to 65537', () => {
    const p = randomPrime(seeded(8), 256)
    expect(bitLength(p)).toBe(256)
    expect(p >> 254n).toBe(3n)
    expect(p % 65537n).not.toBe(1n)
    expect(isProbablePrime(p, seeded(9), 30)).toBe(true)
  })
})

describe('generateRsaPrivateKey', () => {
  it('is a function of the random stream: same stream, same key; other seed, other key', () => {
    const jwk = (seed: number) => generateRsaPrivateKey(seeded(seed), 1024).export({ format: 'jwk' })
    const a = jwk(11)
    expect(jwk(11)).toEqual(a)
    expect(jwk(12).n).not.toBe(a.n)
  })

  it('draws all of its randomness from `random`', () => {
    let drawn = 0
    const inner = seeded(13)
    generateRsaPrivateKey((n) => {
      drawn += n
      return inner(n)
    }, 1024)
    expect(drawn).toBeGreaterThan(128)
  })

  for (const bits of [1024, 2048, 1536]) {
    it(`a ${bits}-bit key has an exact modulus length and consistent CRT parts`, () => {
      const k = generateRsaKeyParts(seeded(bits), bits)
      expect(bitLength(k.n)).toBe(bits)
      expect(k.p * k.q).toBe(k.n)
      expect(k.p).not.toBe(k.q)
      expect(k.e).toBe(65537n)
      expect((k.e * k.d) % (k.p - 1n)).toBe(1n)
      expect((k.e * k.d) % (k.q - 1n)).toBe(1n)
      expect((k.q * k.qi) % k.p).toBe(1n)
      // RSA works: decryption undoes encryption.
      const m = 0x1234567890abcdefn
      expect(modPow(modPow(m, k.e, k.n), k.d, k.n)).toBe(m)
    })
  }

  it('node:crypto accepts the key: SHA-256 signatures verify with the public half, and fail on other data', () => {
    const key = generateRsaPrivateKey(seeded(21), 1024)
    expect(key.asymmetricKeyType).toBe('rsa')
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(1024)
    expect(key.asymmetricKeyDetails?.publicExponent).toBe(65537n)
    const pub = createPublicKey(key)
    const data = Buffer.from('tor relay identity')
    const sig = sign('sha256', data, key)
    expect(verify('sha256', data, pub, sig)).toBe(true)
    expect(verify('sha256', Buffer.from('tor relay identitY'), pub, sig)).toBe(false)
  })

  it('refuses sizes it cannot make', () => {
    expect(() => generateRsaPrivateKey(seeded(1), 256)).toThrow(RangeError)
    expect(() => generateRsaPrivateKey(seeded(1), 1024.5)).toThrow(RangeError)
  })
})

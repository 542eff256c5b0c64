// RSA key generation from a caller-supplied byte stream, so a simulated relay's identity key is a
// function of the run's seed (node's generateKeyPairSync draws from OpenSSL's RNG and cannot be
// seeded). The method is the textbook one (FIPS 186-4 §B.3.3 in outline): random odd candidates of
// half the modulus length with the top two bits set, trial division by small primes, Miller–Rabin
// with random witnesses; e = 65537. Meant for simulated networks, not for keys that guard anything.

import { createPrivateKey, type KeyObject } from 'node:crypto'

export type RandomBytes = (n: number) => Uint8Array

export const RSA_PUBLIC_EXPONENT = 65537n

/** The CRT form of an RSA private key (RFC 8017 §3.2), as JWK carries it. */
export interface RsaKeyParts {
  n: bigint
  e: bigint
  d: bigint
  p: bigint
  q: bigint
  dp: bigint
  dq: bigint
  qi: bigint
}

/** Odd primes below this bound are tried as divisors before any Miller–Rabin round. */
const SIEVE_BOUND = 2048
const SMALL_PRIMES: readonly number[] = oddPrimesBelow(SIEVE_BOUND)
const SMALL_PRIMES_BIG: readonly bigint[] = SMALL_PRIMES.map(BigInt)

function oddPrimesBelow(bound: number): number[] {
  const composite = new Uint8Array(bound)
  const out: number[] = []
  for (let i = 3; i < bound; i += 2) {
    if (composite[i]) continue
    out.push(i)
    for (let j = i * i; j < bound; j += 2 * i) composite[j] = 1
  }
  return out
}

export function bigintFromBytes(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex'))
}

/** Big-endian unsigned bytes, no leading zero bytes (at least one byte). */
export function bigintToBytes(x: bigint): Uint8Array {
  if (x < 0n) throw new RangeError('bigintToBytes expects a non-negative integer')
  let hex = x.toString(16)
  if (hex.length % 2) hex = '0' + hex
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

export function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length
}

/** base^exp mod m, left-to-right with a 4-bit fixed window (exp >= 0, m > 1). */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  const b = ((base % m) + m) % m
  const table: bigint[] = [1n, b]
  for (let i = 2; i < 16; i++) table.push((table[i - 1] * b) % m)
  const hex = exp.toString(16)
  let acc = 1n
  for (let i = 0; i < hex.length; i++) {
    if (i > 0) {
      acc = (acc * acc) % m
      acc = (acc * acc) % m
      acc = (acc * acc) % m
      acc = (acc * acc) % m
    }
    const digit = parseInt(hex[i], 16)
    if (digit) acc = (acc * table[digit]) % m
  }
  return acc
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b]
  return a
}

/** a^-1 mod m; throws if gcd(a, m) != 1. */
export function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [((a % m) + m) % m, m]
  let [s0, s1] = [1n, 0n]
  while (r1) {
    const quot = r0 / r1
    ;[r0, r1] = [r1, r0 - quot * r1]
    ;[s0, s1] = [s1, s0 - quot * s1]
  }
  if (r0 !== 1n) throw new RangeError('not invertible')
  return ((s0 % m) + m) % m
}

/** Uniform integer in [lo, hi] from `random`, by rejection sampling. */
function randomBetween(random: RandomBytes, lo: bigint, hi: bigint): bigint {
  const range = hi - lo + 1n
  const bits = bitLength(range - 1n)
  const nBytes = Math.ceil(bits / 8)
  const topMask = (1 << (bits - 8 * (nBytes - 1))) - 1
  for (;;) {
    const b = random(nBytes)
    b[0] &= topMask
    const x = bigintFromBytes(b)
    if (x < range) return lo + x
  }
}

/**
 * Miller–Rabin with `rounds` witnesses drawn uniformly from [2, n-2] (after trial division by the
 * small primes). A composite survives one round with probability at most 1/4 (Rabin 1980).
 */
export function isProbablePrime(n: bigint, random: RandomBytes, rounds: number): boolean {
  if (n < 2n) return false
  if (n === 2n) return true
  if ((n & 1n) === 0n) return false
  for (const sp of SMALL_PRIMES_BIG) {
    if (n === sp) return true
    if (n % sp === 0n) return false
  }
  return millerRabin(n, random, rounds)
}

/** The Miller–Rabin rounds alone (no trial division), for odd n >= 5. */
export function millerRabin(n: bigint, random: RandomBytes, rounds: number): boolean {
  if (n < 5n || (n & 1n) === 0n) throw new RangeError('Miller–Rabin needs an odd n >= 5')
  const nMinus1 = n - 1n
  let d = nMinus1
  let s = 0
  while ((d & 1n) === 0n) {
    d >>= 1n
    s++
  }
  witness: for (let i = 0; i < rounds; i++) {
    const a = randomBetween(random, 2n, n - 2n)
    let x = modPow(a, d, n)
    if (x === 1n || x === nMinus1) continue
    for (let j = 1; j < s; j++) {
      x = (x * x) % n
      if (x === nMinus1) continue witness
      if (x === 1n) return false
    }
    return false
  }
  return true
}

/**
 * Rounds for a random candidate of this size: FIPS 186-4 Table C.2 asks 5 rounds for 1024-bit
 * and 7 for 512-bit prime factors (error below 2^-100); smaller sizes get 40.
 */
function roundsFor(bits: number): number {
  if (bits >= 1024) return 5
  if (bits >= 512) return 7
  return 40
}

/** True when a small odd prime divides c (c larger than all of them). */
function hasSmallFactor(c: bigint): boolean {
  for (const sp of SMALL_PRIMES_BIG) if (c % sp === 0n) return true
  return false
}

/** A random prime of exactly `bits` bits with its top two bits set and p-1 coprime to e. */
export function randomPrime(random: RandomBytes, bits: number, e: bigint = RSA_PUBLIC_EXPONENT): bigint {
  if (!Number.isInteger(bits) || bits < 16) throw new RangeError(`prime size ${bits} too small`)
  const nBytes = Math.ceil(bits / 8)
  const excess = 8 * nBytes - bits
  const rounds = roundsFor(bits)
  for (;;) {
    const b = random(nBytes)
    b[0] &= 0xff >> excess
    // The top two bits make p*q land at exactly 2*bits bits.
    b[0] |= 0xc0 >> excess
    b[nBytes - 1] |= 1
    const c = bigintFromBytes(b)
    if (hasSmallFactor(c)) continue
    if (gcd(e, c - 1n) !== 1n) continue
    if (millerRabin(c, random, rounds)) return c
  }
}

/** The CRT parts of a fresh `bits`-bit key; every random choice comes from `random`. */
export function generateRsaKeyParts(random: RandomBytes, bits: number): RsaKeyParts {
  if (!Number.isInteger(bits) || bits < 512 || bits > 8192) throw new RangeError(`RSA modulus size ${bits} out of range 512..8192`)
  const e = RSA_PUBLIC_EXPONENT
  const pBits = Math.ceil(bits / 2)
  const qBits = bits - pBits
  for (;;) {
    let p = randomPrime(random, pBits, e)
    let q = randomPrime(random, qBits, e)
    // FIPS 186-4 §B.3.3 asks |p - q| > 2^(nlen/2 - 100); equality would be a broken key.
    const diff = p > q ? p - q : q - p
    if (diff <= 1n << BigInt(Math.max(0, qBits - 100))) continue
    if (p < q) [p, q] = [q, p]
    const n = p * q
    if (bitLength(n) !== bits) continue
    const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n)
    const d = modInverse(e, lambda)
    // FIPS 186-4: d must exceed 2^(nlen/2); otherwise draw again.
    if (d <= 1n << BigInt(pBits)) continue
    return { n, e, d, p, q, dp: d % (p - 1n), dq: d % (q - 1n), qi: modInverse(q, p) }
  }
}

const b64u = (x: bigint) => Buffer.from(bigintToBytes(x)).toString('base64url')

/** A node:crypto RSA private key built from the given parts. */
export function rsaPrivateKeyFromParts(k: RsaKeyParts): KeyObject {
  const jwk = { kty: 'RSA', n: b64u(k.n), e: b64u(k.e), d: b64u(k.d), p: b64u(k.p), q: b64u(k.q), dp: b64u(k.dp), dq: b64u(k.dq), qi: b64u(k.qi) }
  return createPrivateKey({ key: jwk, format: 'jwk' })
}

/** A deterministic RSA private key: the same `random` stream gives the same key. */
export function generateRsaPrivateKey(random: RandomBytes, bits: number): KeyObject {
  return rsaPrivateKeyFromParts(generateRsaKeyParts(random, bits))
}

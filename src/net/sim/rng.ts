// Seeded randomness for the simulator: one root seed, split into named streams. Each stream's state
// is SHA-256("sultry-rng" | seed | name), so a new consumer of one stream never shifts another's
// draws (adding a host does not change the faults a link picks). The generator is xoshiro128**
// (Blackman & Vigna, prng.di.unimi.it), written here from its published definition.

import { createHash } from 'node:crypto'

export class RngStream {
  private s0: number
  private s1: number
  private s2: number
  private s3: number

  constructor(
    readonly seed: number,
    readonly name: string,
  ) {
    const h = createHash('sha256').update(`sultry-rng\u0000${seed}\u0000${name}`).digest()
    this.s0 = h.readUInt32BE(0)
    this.s1 = h.readUInt32BE(4)
    this.s2 = h.readUInt32BE(8)
    this.s3 = h.readUInt32BE(12)
    // xoshiro must not start from the all-zero state; SHA-256 output makes this near-impossible.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1
  }

  /** A stream with an explicit xoshiro128** state (for the reference vector test). */
  static fromState(name: string, state: readonly [number, number, number, number]): RngStream {
    const r = new RngStream(0, name)
    ;[r.s0, r.s1, r.s2, r.s3] = state
    return r
  }

  /** A derived stream: same seed, name `${this.name}/${name}`. */
  stream(name: string): RngStream {
    return new RngStream(this.seed, `${this.name}/${name}`)
  }

  /** Uniform unsigned 32-bit integer. */
  next32(): number {
    const s1 = this.s1
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  /** Uniform in [0, 1) with 53 bits of precision. */
  float(): number {
    const hi = this.next32() >>> 5 // 27 bits
    const lo = this.next32() >>> 6 // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) throw new RangeError(`"int" expected integers lo <= hi, got ${lo}, ${hi}`)
    const range = hi - lo + 1
    if (range <= 0x1_0000_0000) {
      // Rejection sampling keeps small ranges exactly uniform.
      const limit = 0x1_0000_0000 - (0x1_0000_0000 % range)
      for (;;) {
        const x = this.next32()
        if (x < limit) return lo + (x % range)
      }
    }
    return lo + Math.floor(this.float() * range)
  }

  /** True with probability p. */
  chance(p: number): boolean {
    if (p <= 0) return false
    if (p >= 1) return true
    return this.float() < p
  }

  /** n uniform random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    let i = 0
    for (; i + 4 <= n; i += 4) {
      const x = this.next32()
      out[i] = x >>> 24
      out[i + 1] = (x >>> 16) & 0xff
      out[i + 2] = (x >>> 8) & 0xff
      out[i + 3] = x & 0xff
    }
    if (i < n) {
      const x = this.next32()
      for (let k = 0; i < n; i++, k++) out[i] = (x >>> (24 - 8 * k)) & 0xff
    }
    return out
  }

  /** One element of a non-empty array. */
  pick<T>(arr: readonly T[]): T {
    if (arr.length === 0) throw new RangeError('"pick" expected a non-empty array')
    return arr[this.int(0, arr.length - 1)] as T
  }
}

/** The root of a run's randomness. */
export class Rng {
  constructor(readonly seed: number) {}

  stream(name: string): RngStream {
    return new RngStream(this.seed, name)
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

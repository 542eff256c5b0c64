// The two primitives tor1 relay crypto needs per hop and direction (tor-spec §5.5, §6.1): one
// continuous AES-128-CTR keystream with a zero IV, and a running SHA-1 that can be read without
// being finished. Two interchangeable implementations: @noble (portable) and node:crypto (OpenSSL).

import { createCipheriv, createHash, type Cipher, type Hash } from 'node:crypto'
import { ctr } from '@noble/ciphers/aes.js'
import { sha1 } from '@noble/hashes/legacy.js'
import { xorLayers } from './xor.js'

/** Most keystream bytes one take() may ask for: a relay body. */
export const MAX_KEYSTREAM_TAKE = 512

export interface Keystream {
  /** XORs the next bytes of the keystream into `data`, in place. */
  apply(data: Uint8Array): void
  /**
   * Consumes the next `n` (at most MAX_KEYSTREAM_TAKE) keystream bytes and returns them as a view
   * that stays valid only until the next call on this keystream. Lets a caller peel several hops'
   * layers in one pass (xorLayers).
   */
  take(n: number): Uint8Array
}

export interface RunningDigest {
  update(data: Uint8Array): void
  /** SHA-1 of everything fed so far; the stream stays open. */
  current(): Uint8Array
  /**
   * SHA-1 of everything fed so far followed by `data`, leaving the state as it was: lets a hop try
   * a cell and fold it in (update) only if it recognises it.
   */
  currentWith(data: Uint8Array): Uint8Array
}

export interface Tor1Backend {
  readonly name: string
  aes128Ctr(key: Uint8Array): Keystream
  /** A running SHA-1 already fed with `seed` (Df or Db). */
  runningSha1(seed: Uint8Array): RunningDigest
}

const BLOCK = 16
/**
 * Keystream is made ahead in buffers that start small (a circuit that carries a few cells keeps
 * little) and double up to the largest, so a bulk transfer asks the cipher once per ~64 cells.
 */
const FIRST_REFILL = 1024
const LARGEST_REFILL = 32 * 1024
const ZEROS = new Uint8Array(LARGEST_REFILL)

/**
 * A continuous keystream served from buffers generated ahead; subclasses say how to make the
 * next `n` bytes. Whole buffers are generated per call, never per cell: a per-cell cipher call
 * allocates a fresh output buffer, and those allocations dominated a bulk download's profile.
 */
abstract class BufferedKeystream implements Keystream {
  private buf: Uint8Array = new Uint8Array(0)
  private pos = 0
  private nextRefill = FIRST_REFILL
  /** Holds a take() that straddles two buffers. */
  private readonly straddle = new Uint8Array(MAX_KEYSTREAM_TAKE)

  /** The next `n` bytes of keystream, `n` a multiple of 16. */
  protected abstract generate(n: number): Uint8Array

  private refill(): void {
    this.buf = this.generate(this.nextRefill)
    this.pos = 0
    this.nextRefill = Math.min(LARGEST_REFILL, this.nextRefill * 2)
  }

  take(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0 || n > MAX_KEYSTREAM_TAKE) throw new RangeError(`keystream take of ${n} bytes`)
    const left = this.buf.length - this.pos
    if (n <= left) {
      this.pos += n
      return this.buf.subarray(this.pos - n, this.pos)
    }
    this.straddle.set(this.buf.subarray(this.pos), 0)
    this.refill()
    this.pos = n - left
    this.straddle.set(this.buf.subarray(0, this.pos), left)
    return this.straddle.subarray(0, n)
  }

  apply(data: Uint8Array): void {
    for (let i = 0; i < data.length; ) {
      if (this.pos === this.buf.length) this.refill()
      const n = Math.min(data.length - i, this.buf.length - this.pos)
      xorLayers(data.subarray(i, i + n), [this.buf.subarray(this.pos, this.pos + n)])
      i += n
      this.pos += n
    }
  }
}

/** noble's ctr() is one-shot (each call restarts at its nonce), so the counter is kept here. */
class NobleKeystream extends BufferedKeystream {
  private readonly counter = new Uint8Array(BLOCK)
  constructor(private readonly key: Uint8Array) {
    super()
  }

  protected generate(n: number): Uint8Array {
    // ctr() advances the nonce it is given, so hand it a copy and advance ours ourselves.
    const out = ctr(this.key, this.counter.slice()).encrypt(ZEROS.subarray(0, n))
    addToCounter(this.counter, n / BLOCK)
    return out
  }
}

/** Big-endian 128-bit add, as AES-CTR increments its counter block. */
function addToCounter(counter: Uint8Array, n: number): void {
  let carry = n
  for (let i = counter.length - 1; i >= 0 && carry > 0; i--) {
    const v = counter[i] + (carry & 0xff)
    counter[i] = v & 0xff
    carry = (carry >>> 8) + (v >> 8)
  }
}

type NobleSha1 = ReturnType<typeof sha1.create>

class NobleDigest implements RunningDigest {
  constructor(private readonly h: NobleSha1) {}
  update(data: Uint8Array): void {
    this.h.update(data)
  }
  current(): Uint8Array {
    return this.h.clone().digest()
  }
  currentWith(data: Uint8Array): Uint8Array {
    return this.h.clone().update(data).digest()
  }
}

export const nobleBackend: Tor1Backend = {
  name: 'noble',
  aes128Ctr: (key) => new NobleKeystream(checkKey(key)),
  runningSha1: (seed) => new NobleDigest(sha1.create().update(seed)),
}

/** OpenSSL's CTR keeps its own counter across update() calls: encrypting zeros yields the keystream. */
class NodeKeystream extends BufferedKeystream {
  private readonly cipher: Cipher
  constructor(key: Uint8Array) {
    super()
    this.cipher = createCipheriv('aes-128-ctr', key, new Uint8Array(BLOCK))
  }
  protected generate(n: number): Uint8Array {
    return this.cipher.update(ZEROS.subarray(0, n))
  }
}

/** A Buffer's bytes as a plain Uint8Array view (no copy). */
const bytesOf = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

class NodeDigest implements RunningDigest {
  constructor(private readonly h: Hash) {}
  update(data: Uint8Array): void {
    this.h.update(data)
  }
  current(): Uint8Array {
    return bytesOf(this.h.copy().digest())
  }
  currentWith(data: Uint8Array): Uint8Array {
    return bytesOf(this.h.copy().update(data).digest())
  }
}

export const nodeBackend: Tor1Backend = {
  name: 'node:crypto',
  aes128Ctr: (key) => new NodeKeystream(checkKey(key)),
  runningSha1: (seed) => new NodeDigest(createHash('sha1').update(seed)),
}

function checkKey(key: Uint8Array): Uint8Array {
  if (key.length !== 16) throw new RangeError(`AES-128 key must be 16 bytes, got ${key.length}`)
  return key.slice()
}

export const tor1Backends: readonly Tor1Backend[] = [nobleBackend, nodeBackend]

/**
 * Default backend: node:crypto won. measureRelayCryptoBackends(20_000), six runs on this 2-core
 * machine (2026-11-22, Node 20, load average ~3 from other jobs): node:crypto 10,600-35,500 cell
 * pairs/s (typically ~26,000-35,000), noble 1,650-3,100 — node:crypto was 6-13x faster in every
 * run. noble's SHA-1 (~24 us per 509-byte update) and AES (~30 MB/s) are the difference; OpenSSL
 * uses AES-NI and SHA extensions. noble stays for portability and as the cross-check in tests.
 * Re-measured 2026-12-07 once keystream came from buffers made ahead (BufferedKeystream, XOR in
 * JS) and recognising a cell cost one digest copy instead of two, four runs each, load ~2-3:
 * node:crypto 34,800-64,900 (the previous code, run alongside: 19,300-36,400), noble 7,400-13,900
 * — node:crypto still 3.5-5x faster.
 */
export const defaultTor1Backend: Tor1Backend = nodeBackend

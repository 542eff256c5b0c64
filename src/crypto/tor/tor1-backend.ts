// The two primitives tor1 relay crypto needs per hop and direction (tor-spec §5.5, §6.1): one
// continuous AES-128-CTR keystream with a zero IV, and a running SHA-1 that can be read without
// being finished. Two interchangeable implementations: @noble (portable) and node:crypto (OpenSSL).

import { createCipheriv, createHash, type Hash } from 'node:crypto'
import { ctr } from '@noble/ciphers/aes.js'
import { sha1 } from '@noble/hashes/legacy.js'

export interface Keystream {
  /** XORs the next bytes of the keystream into `data`, in place. */
  apply(data: Uint8Array): void
}

export interface RunningDigest {
  update(data: Uint8Array): void
  /** SHA-1 of everything fed so far; the stream stays open. */
  current(): Uint8Array
  /** An independent copy: lets a hop try a cell and keep the new state only if it recognises it. */
  clone(): RunningDigest
}

export interface Tor1Backend {
  readonly name: string
  aes128Ctr(key: Uint8Array): Keystream
  /** A running SHA-1 already fed with `seed` (Df or Db). */
  runningSha1(seed: Uint8Array): RunningDigest
}

const BLOCK = 16
/** Keystream generated per call into noble: 256 blocks amortises its per-call key schedule. */
const NOBLE_CHUNK = 256 * BLOCK

/**
 * noble's ctr() is one-shot (each call restarts at its nonce), so the continuous stream is made by
 * encrypting zeros under successive counter blocks and keeping what is left over between cells.
 */
class NobleKeystream implements Keystream {
  private readonly counter = new Uint8Array(BLOCK)
  private buf = new Uint8Array(0)
  private pos = 0
  private readonly zeros = new Uint8Array(NOBLE_CHUNK)
  constructor(private readonly key: Uint8Array) {}

  apply(data: Uint8Array): void {
    for (let i = 0; i < data.length; ) {
      if (this.pos === this.buf.length) this.refill()
      const n = Math.min(data.length - i, this.buf.length - this.pos)
      for (let j = 0; j < n; j++) data[i + j] ^= this.buf[this.pos + j]
      i += n
      this.pos += n
    }
  }

  private refill(): void {
    // ctr() advances the nonce it is given, so hand it a copy and advance ours ourselves.
    this.buf = ctr(this.key, this.counter.slice()).encrypt(this.zeros)
    this.pos = 0
    addToCounter(this.counter, NOBLE_CHUNK / BLOCK)
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
  clone(): RunningDigest {
    return new NobleDigest(this.h.clone())
  }
}

export const nobleBackend: Tor1Backend = {
  name: 'noble',
  aes128Ctr: (key) => new NobleKeystream(checkKey(key)),
  runningSha1: (seed) => new NobleDigest(sha1.create().update(seed)),
}

class NodeKeystream implements Keystream {
  private readonly cipher
  constructor(key: Uint8Array) {
    this.cipher = createCipheriv('aes-128-ctr', key, new Uint8Array(BLOCK))
  }
  apply(data: Uint8Array): void {
    data.set(this.cipher.update(data))
  }
}

class NodeDigest implements RunningDigest {
  constructor(private readonly h: Hash) {}
  update(data: Uint8Array): void {
    this.h.update(data)
  }
  current(): Uint8Array {
    return new Uint8Array(this.h.copy().digest())
  }
  clone(): RunningDigest {
    return new NodeDigest(this.h.copy())
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
 */
export const defaultTor1Backend: Tor1Backend = nodeBackend

// The TLS 1.2 PRF (RFC 5246 §5): P_hash(secret, label || seed) with HMAC of the suite's hash.

import { hmac } from '@noble/hashes/hmac.js'
import { sha256, sha384 } from '@noble/hashes/sha2.js'
import { concatBytes } from '../wire/bytes.js'
import type { SuiteHash } from './hkdf-label.js'

const hashes = { sha256, sha384 } as const

export function tls12Prf(hash: SuiteHash, secret: Uint8Array, label: string, seed: Uint8Array, length: number): Uint8Array {
  const h = hashes[hash]
  const labelSeed = concatBytes(new TextEncoder().encode(label), seed)
  const out = new Uint8Array(length)
  let a = labelSeed // A(0)
  let filled = 0
  while (filled < length) {
    a = hmac(h, secret, a) // A(i) = HMAC(secret, A(i-1))
    const block = hmac(h, secret, concatBytes(a, labelSeed))
    out.set(block.subarray(0, Math.min(block.length, length - filled)), filled)
    filled += block.length
  }
  return out
}

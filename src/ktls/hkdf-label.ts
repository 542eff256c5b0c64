// kTLS names hashes by suite ('sha256' | 'sha384'); the HKDF-Expand-Label itself is the project's
// key schedule (src/crypto/tls13/key-schedule.ts, checked against RFC 8448 there and in secrets.test.ts).

import { sha256, sha384 } from '@noble/hashes/sha2.js'
import { hkdfExpandLabel as expandLabel } from '../crypto/tls13/key-schedule.js'

export type SuiteHash = 'sha256' | 'sha384'

const hashes = { sha256, sha384 } as const

export function hkdfExpandLabel(hash: SuiteHash, secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  return expandLabel(hashes[hash], secret, label, context, length)
}

/** RFC 8446 §7.3: [sender]_write_key and [sender]_write_iv from a traffic secret. */
export function trafficKeyAndIv(hash: SuiteHash, secret: Uint8Array, keyLength: number): { key: Uint8Array; iv: Uint8Array } {
  const empty = new Uint8Array(0)
  return { key: hkdfExpandLabel(hash, secret, 'key', empty, keyLength), iv: hkdfExpandLabel(hash, secret, 'iv', empty, 12) }
}

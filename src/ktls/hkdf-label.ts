// HKDF-Expand-Label (RFC 8446 §7.1) — only what kTLS needs: the traffic key and iv of one secret.
// Lives here until src/crypto/tls13/key-schedule.ts lands; then this file should re-export it.

import { expand } from '@noble/hashes/hkdf.js'
import { sha256, sha384 } from '@noble/hashes/sha2.js'

export type SuiteHash = 'sha256' | 'sha384'

const hashes = { sha256, sha384 } as const

/** struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; } */
export function hkdfExpandLabel(hash: SuiteHash, secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const full = new TextEncoder().encode('tls13 ' + label)
  if (full.length > 255 || context.length > 255 || length > 0xffff) throw new RangeError('HkdfLabel field too long')
  const info = new Uint8Array(2 + 1 + full.length + 1 + context.length)
  info[0] = length >> 8
  info[1] = length & 0xff
  info[2] = full.length
  info.set(full, 3)
  info[3 + full.length] = context.length
  info.set(context, 4 + full.length)
  return expand(hashes[hash], secret, info, length)
}

/** RFC 8446 §7.3: [sender]_write_key and [sender]_write_iv from a traffic secret. */
export function trafficKeyAndIv(hash: SuiteHash, secret: Uint8Array, keyLength: number): { key: Uint8Array; iv: Uint8Array } {
  const empty = new Uint8Array(0)
  return { key: hkdfExpandLabel(hash, secret, 'key', empty, keyLength), iv: hkdfExpandLabel(hash, secret, 'iv', empty, 12) }
}

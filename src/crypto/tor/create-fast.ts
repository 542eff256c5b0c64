// CREATE_FAST and KDF-TOR (tor-spec §5.1.5 / §5.2.1). No public-key crypto: only safe on the first
// hop, where TLS already authenticated the relay. C tor clients have it off by default; arti uses
// it for one-hop directory circuits. X and Y are 20 random bytes supplied by the caller.

import { createHash } from 'node:crypto'
import { concatBytes } from '../../wire/bytes.js'
import { NtorError } from './ntor.js'
import { TOR1_KEY_LEN } from './kdf-rfc5869.js'

export const CREATE_FAST_KEY_LEN = 20
const HASH_LEN = 20

/** KDF-TOR: K = SHA1(K0 | [00]) | SHA1(K0 | [01]) | … — at most 256 blocks. */
export function kdfTor(k0: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 256 * HASH_LEN) throw new RangeError(`KDF-TOR cannot produce ${length} bytes`)
  const out = new Uint8Array(Math.ceil(length / HASH_LEN) * HASH_LEN)
  for (let i = 0; i * HASH_LEN < length; i++) out.set(createHash('sha1').update(k0).update(Uint8Array.of(i)).digest(), i * HASH_LEN)
  return out.subarray(0, length)
}

/** KDF-TOR output is KH(20) | Df | Db | Kf | Kb; returns KH and the Df.. part (for splitTor1Keys). */
function derive(X: Uint8Array, Y: Uint8Array): { KH: Uint8Array; keyMaterial: Uint8Array } {
  const k = kdfTor(concatBytes(X, Y), HASH_LEN + TOR1_KEY_LEN)
  return { KH: k.slice(0, HASH_LEN), keyMaterial: k.slice(HASH_LEN) }
}

function checkLen(b: Uint8Array, n: number, what: string): void {
  if (b.length !== n) throw new NtorError('bad-length', `${what} must be ${n} bytes, got ${b.length}`)
}

/** Relay side: answer CREATE_FAST's X with Y | KH; keys are Df | Db | Kf | Kb. */
export function createFastServer(X: Uint8Array, Y: Uint8Array): { reply: Uint8Array; keyMaterial: Uint8Array } {
  checkLen(X, CREATE_FAST_KEY_LEN, 'CREATE_FAST X')
  checkLen(Y, CREATE_FAST_KEY_LEN, 'CREATED_FAST Y')
  const { KH, keyMaterial } = derive(X, Y)
  return { reply: concatBytes(Y, KH), keyMaterial }
}

/** Client side: given the X it sent and the CREATED_FAST reply, check KH and return Df | Db | Kf | Kb. */
export function createFastClientFinish(X: Uint8Array, reply: Uint8Array): Uint8Array {
  checkLen(X, CREATE_FAST_KEY_LEN, 'CREATE_FAST X')
  checkLen(reply, 2 * CREATE_FAST_KEY_LEN, 'CREATED_FAST reply')
  const { KH, keyMaterial } = derive(X, reply.subarray(0, CREATE_FAST_KEY_LEN))
  let diff = 0
  for (let i = 0; i < HASH_LEN; i++) diff |= KH[i] ^ reply[CREATE_FAST_KEY_LEN + i]
  if (diff !== 0) throw new NtorError('bad-auth', 'CREATED_FAST KH does not match')
  return keyMaterial
}

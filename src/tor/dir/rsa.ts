// RSA as directory documents use it (dir-spec §1.3): keys are PKCS#1 DER in "RSA PUBLIC KEY"
// objects; signatures are PKCS#1 v1.5 padding around the bare digest, with no DigestInfo.

import { createHash, createPublicKey, publicDecrypt, constants, type KeyObject } from 'node:crypto'
import { WireError, equalBytes } from '../../wire/bytes.js'
import type { NetdocObject } from './netdoc.js'

export function rsaKeyFromObject(obj: NetdocObject | undefined, what: string): { key: KeyObject; der: Uint8Array } {
  if (!obj || obj.type !== 'RSA PUBLIC KEY') throw new WireError('bad-value', `${what}: no RSA PUBLIC KEY object`)
  try {
    const key = createPublicKey({ key: Buffer.from(obj.bytes), format: 'der', type: 'pkcs1' })
    return { key, der: obj.bytes }
  } catch {
    throw new WireError('bad-value', `${what}: not a PKCS#1 RSA public key`)
  }
}

// Documents are held as latin1 strings (one char per byte), so hashing must use the same mapping.
const bytesOf = (b: Uint8Array | string) => (typeof b === 'string' ? Buffer.from(b, 'latin1') : b)
export const sha1 = (b: Uint8Array | string) => new Uint8Array(createHash('sha1').update(bytesOf(b)).digest())
export const sha256 = (b: Uint8Array | string) => new Uint8Array(createHash('sha256').update(bytesOf(b)).digest())

/** True when `signature` is `key`'s PKCS#1 v1.5 signature of the bare `digest`. */
export function rsaVerifyDigest(key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  try {
    const recovered = new Uint8Array(publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature))
    return equalBytes(recovered, digest)
  } catch {
    return false
  }
}

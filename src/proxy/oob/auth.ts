// Challenge–response with the pre-shared key. The helper sends a fresh 32-byte server nonce on
// every connection; the client answers with its own nonce and
//   HMAC-SHA256(key, "sultry-oob/1 client" || server_nonce || client_nonce)
// and the helper proves it holds the key too with
//   HMAC-SHA256(key, "sultry-oob/1 helper" || server_nonce || client_nonce).
// An AUTH recorded on one connection is useless on another (different server nonce); the labels
// keep the two MACs from being swapped. Comparison is constant-time.

import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes } from '../../wire/bytes.js'

const enc = new TextEncoder()
export const CLIENT_LABEL = enc.encode('sultry-oob/1 client')
export const HELPER_LABEL = enc.encode('sultry-oob/1 helper')
/** Shorter keys are refused: a PSK is the helper's only defence against being an open proxy. */
export const MIN_KEY_LENGTH = 16

export function authMac(key: Uint8Array, label: Uint8Array, serverNonce: Uint8Array, clientNonce: Uint8Array): Uint8Array {
  return hmac(sha256, key, concatBytes(label, serverNonce, clientNonce))
}

/** Constant-time equality for equal-length MACs (length is public). */
export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i]
  return diff === 0
}

/** A key file: raw bytes, or hex/base64 text (64 hex digits, as `openssl rand -hex 32` writes). */
export function parseKeyFile(content: Uint8Array): Uint8Array {
  const t = Buffer.from(content).toString('latin1').trim()
  let key: Uint8Array
  if (/^[0-9a-fA-F]+$/.test(t) && t.length % 2 === 0) key = new Uint8Array(Buffer.from(t, 'hex'))
  else if (/^[A-Za-z0-9+/=]+$/.test(t) && t.length >= 24) key = new Uint8Array(Buffer.from(t, 'base64'))
  else key = content
  if (key.length < MIN_KEY_LENGTH) throw new Error(`OOB key: ${key.length} bytes, need at least ${MIN_KEY_LENGTH}`)
  return key
}

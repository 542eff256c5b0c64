// The ntor handshake, HTYPE 2 (tor-spec §5.1.4). Randomness comes in as arguments: the client's
// ephemeral secret x and the relay's y are 32 random bytes the caller's World supplied.

import { x25519 } from '@noble/curves/ed25519.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, equalBytes } from '../../wire/bytes.js'
import { NTOR_PROTOID_BYTES, NTOR_SERVER, NTOR_T_MAC, NTOR_T_VERIFY, TOR1_KEY_LEN, ntorKdf } from './kdf-rfc5869.js'

export const NTOR_HTYPE = 2
export const NODE_ID_LEN = 20
export const KEY_LEN = 32
/** Client HDATA: NODEID(20) | KEYID(32) | X(32). */
export const NTOR_ONIONSKIN_LEN = NODE_ID_LEN + KEY_LEN + KEY_LEN
/** Server HDATA: Y(32) | AUTH(32). */
export const NTOR_REPLY_LEN = KEY_LEN + 32

export type NtorErrorCode = 'bad-length' | 'unknown-relay' | 'bad-dh' | 'bad-auth'

/** Why a handshake failed; the circuit must then be torn down. */
export class NtorError extends Error {
  override readonly name = 'NtorError'
  constructor(readonly code: NtorErrorCode, detail: string = code) {
    super(detail)
  }
}

/** What a client knows about the relay it is extending to. */
export interface NtorRelayPublic {
  /** NODEID: the relay's RSA identity fingerprint (SHA-1 of its DER identity key). */
  nodeId: Uint8Array
  /** KEYID / B: the relay's curve25519 ntor onion key. */
  ntorOnionKey: Uint8Array
}

export interface NtorRelaySecret extends NtorRelayPublic {
  /** b: the secret half of the ntor onion key. */
  ntorOnionSecret: Uint8Array
}

export interface NtorClientState {
  relay: NtorRelayPublic
  x: Uint8Array
  X: Uint8Array
}

/** H(x, t) = HMAC-SHA256(key = t, message = x). */
const H = (msg: Uint8Array, tweak: Uint8Array) => hmac(sha256, tweak, msg)

function dh(secret: Uint8Array, pub: Uint8Array): Uint8Array {
  let out: Uint8Array
  try {
    out = x25519.scalarMult(secret, pub)
  } catch {
    throw new NtorError('bad-dh', 'x25519 rejected the peer key')
  }
  // tor-spec §5.1.4: an all-zero shared secret means a small-order point; abort.
  if (out.every((b) => b === 0)) throw new NtorError('bad-dh', 'all-zero x25519 output')
  return out
}

function checkLen(b: Uint8Array, n: number, what: string): void {
  if (b.length !== n) throw new NtorError('bad-length', `${what} must be ${n} bytes, got ${b.length}`)
}

/** Client step 1: build the onion skin ID | B | X from 32 random bytes `x`. */
export function ntorClientCreate(relay: NtorRelayPublic, x: Uint8Array): { state: NtorClientState; onionSkin: Uint8Array } {
  checkLen(relay.nodeId, NODE_ID_LEN, 'NODEID')
  checkLen(relay.ntorOnionKey, KEY_LEN, 'KEYID')
  checkLen(x, KEY_LEN, 'x')
  const X = x25519.getPublicKey(x)
  return { state: { relay, x: x.slice(), X }, onionSkin: concatBytes(relay.nodeId, relay.ntorOnionKey, X) }
}

function secretsFor(exp1: Uint8Array, exp2: Uint8Array, id: Uint8Array, B: Uint8Array, X: Uint8Array, Y: Uint8Array) {
  const secretInput = concatBytes(exp1, exp2, id, B, X, Y, NTOR_PROTOID_BYTES)
  const verify = H(secretInput, NTOR_T_VERIFY)
  const authInput = concatBytes(verify, id, B, Y, X, NTOR_PROTOID_BYTES, NTOR_SERVER)
  return { secretInput, auth: H(authInput, NTOR_T_MAC) }
}

/** Relay side: answer an onion skin with Y | AUTH (32 random bytes `y`) and derive the keys. */
export function ntorServerRespond(
  onionSkin: Uint8Array,
  relay: NtorRelaySecret,
  y: Uint8Array,
  keyLength = TOR1_KEY_LEN,
): { reply: Uint8Array; keyMaterial: Uint8Array } {
  checkLen(onionSkin, NTOR_ONIONSKIN_LEN, 'ntor onion skin')
  checkLen(y, KEY_LEN, 'y')
  const id = onionSkin.subarray(0, NODE_ID_LEN)
  const B = onionSkin.subarray(NODE_ID_LEN, NODE_ID_LEN + KEY_LEN)
  const X = onionSkin.subarray(NODE_ID_LEN + KEY_LEN)
  if (!equalBytes(id, relay.nodeId) || !equalBytes(B, relay.ntorOnionKey)) {
    throw new NtorError('unknown-relay', 'onion skin names another relay or onion key')
  }
  const Y = x25519.getPublicKey(y)
  // Server computes EXP(X,y) | EXP(X,b).
  const { secretInput, auth } = secretsFor(dh(y, X), dh(relay.ntorOnionSecret, X), id, B, X, Y)
  return { reply: concatBytes(Y, auth), keyMaterial: ntorKdf(secretInput, keyLength) }
}

/** Client step 2: check the relay's AUTH and derive the keys (Df | Db | Kf | Kb [| KH]). */
export function ntorClientFinish(state: NtorClientState, reply: Uint8Array, keyLength = TOR1_KEY_LEN): Uint8Array {
  checkLen(reply, NTOR_REPLY_LEN, 'ntor reply')
  const Y = reply.subarray(0, KEY_LEN)
  const AUTH = reply.subarray(KEY_LEN)
  const { nodeId, ntorOnionKey: B } = state.relay
  // Client computes EXP(Y,x) | EXP(B,x).
  const { secretInput, auth } = secretsFor(dh(state.x, Y), dh(state.x, B), nodeId, B, state.X, Y)
  if (!constantTimeEqual(auth, AUTH)) throw new NtorError('bad-auth', 'relay AUTH does not match')
  return ntorKdf(secretInput, keyLength)
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i]
  return diff === 0
}

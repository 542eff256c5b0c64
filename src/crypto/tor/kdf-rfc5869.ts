// KDF-RFC5869 (tor-spec §5.2.2): HKDF-SHA256 with Tor's ntor strings as salt and info.
// Also the split of its output into the tor1 circuit keys (tor-spec §5.2.2 / §5.1.4).

import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'

const utf8 = (s: string) => new TextEncoder().encode(s)

/** tor-spec §5.1.4: PROTOID and the tweak strings derived from it. */
export const NTOR_PROTOID = 'ntor-curve25519-sha256-1'
export const NTOR_T_MAC = utf8(`${NTOR_PROTOID}:mac`)
export const NTOR_T_KEY = utf8(`${NTOR_PROTOID}:key_extract`)
export const NTOR_T_VERIFY = utf8(`${NTOR_PROTOID}:verify`)
export const NTOR_M_EXPAND = utf8(`${NTOR_PROTOID}:key_expand`)
export const NTOR_SERVER = utf8('Server')
export const NTOR_PROTOID_BYTES = utf8(NTOR_PROTOID)

/** HKDF-SHA256(IKM = secretInput, salt, info) producing `length` bytes (RFC 5869). */
export function kdfRfc5869(secretInput: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdf(sha256, secretInput, salt, info, length)
}

/** The ntor key expansion: salt t_key, info m_expand (tor-spec §5.1.4). */
export function ntorKdf(secretInput: Uint8Array, length: number): Uint8Array {
  return kdfRfc5869(secretInput, NTOR_T_KEY, NTOR_M_EXPAND, length)
}

/** Key material for one hop of tor1 relay crypto. */
export interface CircuitKeys {
  /** Forward digest seed (client -> relay). */
  Df: Uint8Array
  /** Backward digest seed (relay -> client). */
  Db: Uint8Array
  /** Forward AES-128 key. */
  Kf: Uint8Array
  /** Backward AES-128 key. */
  Kb: Uint8Array
  /** Nonce for onion-service use; present when 92 bytes were derived. */
  KH?: Uint8Array
}

/** 20 + 20 + 16 + 16 bytes are the keys; a further 20 are KH (tor-spec §5.2.2). */
export const TOR1_KEY_LEN = 72
export const TOR1_KEY_LEN_WITH_KH = 92

/** Splits KDF output laid out Df | Db | Kf | Kb [| KH]. */
export function splitTor1Keys(k: Uint8Array): CircuitKeys {
  if (k.length < TOR1_KEY_LEN) throw new RangeError(`need ${TOR1_KEY_LEN} bytes of key material, got ${k.length}`)
  const keys: CircuitKeys = { Df: k.slice(0, 20), Db: k.slice(20, 40), Kf: k.slice(40, 56), Kb: k.slice(56, 72) }
  if (k.length >= TOR1_KEY_LEN_WITH_KH) keys.KH = k.slice(72, 92)
  return keys
}

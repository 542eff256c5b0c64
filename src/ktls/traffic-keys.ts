// From secrets to what the kernel wants per direction: key, salt, iv and the record sequence
// number, split the way linux/tls.h lays them out (notes §2):
//   TLS 1.3 AES-GCM: salt = write_iv[0..4], iv = write_iv[4..12]; nonce = salt||iv XOR seq.
//   TLS 1.2 AES-GCM: salt = the 4-byte fixed IV from the key block; iv = the 8-byte explicit nonce.
//   ChaCha20-Poly1305 (both versions): the whole 12-byte iv, no salt.

import { TLS_1_3_VERSION, TLS_CIPHER_CHACHA20_POLY1305 } from './constants.js'
import { trafficKeyAndIv } from './hkdf-label.js'
import { tls12Prf } from './prf.js'
import { concatBytes } from '../wire/bytes.js'
import type { KtlsSuite } from './suites.js'
import type { CryptoInfo } from './crypto-info.js'

export interface DirectionKeys {
  key: Uint8Array
  /** The full 12-byte per-connection nonce base (TLS 1.2 GCM: only the first 4 bytes exist). */
  writeIv: Uint8Array
}

export function tls13DirectionKeys(suite: KtlsSuite, trafficSecret: Uint8Array): DirectionKeys {
  const { key, iv } = trafficKeyAndIv(suite.hash, trafficSecret, suite.keyLength)
  return { key, writeIv: iv }
}

/**
 * RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion", server_random + client_random),
 * partitioned as client/server MAC keys (empty for AEAD), client/server write keys, client/server IVs.
 */
export function tls12KeyBlock(suite: KtlsSuite, masterSecret: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): { client: DirectionKeys; server: DirectionKeys } {
  const k = suite.keyLength
  const v = suite.fixedIvLength
  const block = tls12Prf(suite.hash, masterSecret, 'key expansion', concatBytes(serverRandom, clientRandom), 2 * k + 2 * v)
  const out = {
    client: { key: block.slice(0, k), writeIv: block.slice(2 * k, 2 * k + v) },
    server: { key: block.slice(k, 2 * k), writeIv: block.slice(2 * k + v, 2 * k + 2 * v) },
  }
  block.fill(0)
  return out
}

export function seqBytes(seq: bigint): Uint8Array {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, seq)
  return b
}

/** The crypto_info fields for one direction starting at record sequence number `seq`. */
export function kernelCryptoInfo(suite: KtlsSuite, keys: DirectionKeys, seq: bigint): CryptoInfo {
  const recSeq = seqBytes(seq)
  if (suite.cipherType === TLS_CIPHER_CHACHA20_POLY1305) {
    return { version: suite.version, cipherType: suite.cipherType, key: keys.key, iv: keys.writeIv.slice(0, 12), salt: new Uint8Array(0), recSeq }
  }
  if (suite.version === TLS_1_3_VERSION) {
    return { version: suite.version, cipherType: suite.cipherType, key: keys.key, iv: keys.writeIv.slice(4, 12), salt: keys.writeIv.slice(0, 4), recSeq }
  }
  // TLS 1.2 GCM: the explicit nonce only has to be unique per key; like OpenSSL we start it at the
  // sequence number (the kernel increments it with each record it sends; on receive it reads it from the record).
  return { version: suite.version, cipherType: suite.cipherType, key: keys.key, iv: recSeq.slice(), salt: keys.writeIv.slice(0, 4), recSeq }
}

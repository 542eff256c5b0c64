// The TLS 1.3 cipher suites (RFC 8446 §B.4): the hash for HKDF and the AEAD with its key length.

import { sha256, sha384 } from '@noble/hashes/sha2.js'
import type { CHash } from '@noble/hashes/utils.js'
import { WireError } from '../../wire/bytes.js'

export type Hash = CHash

export interface CipherSuite {
  code: number
  name: string
  hash: Hash
  hashLength: number
  aead: 'aes-gcm' | 'chacha20-poly1305'
  keyLength: number
  /** iv_length: max(8 bytes, N_MIN) = 12 for all three AEADs (RFC 8446 §5.3, RFC 5116). */
  ivLength: number
  tagLength: number
}

export const TLS_AES_128_GCM_SHA256: CipherSuite = {
  code: 0x1301, name: 'TLS_AES_128_GCM_SHA256', hash: sha256, hashLength: 32, aead: 'aes-gcm', keyLength: 16, ivLength: 12, tagLength: 16,
}
export const TLS_AES_256_GCM_SHA384: CipherSuite = {
  code: 0x1302, name: 'TLS_AES_256_GCM_SHA384', hash: sha384, hashLength: 48, aead: 'aes-gcm', keyLength: 32, ivLength: 12, tagLength: 16,
}
export const TLS_CHACHA20_POLY1305_SHA256: CipherSuite = {
  code: 0x1303, name: 'TLS_CHACHA20_POLY1305_SHA256', hash: sha256, hashLength: 32, aead: 'chacha20-poly1305', keyLength: 32, ivLength: 12, tagLength: 16,
}

export const TLS13_CIPHER_SUITES: ReadonlyMap<number, CipherSuite> = new Map(
  [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256].map((s) => [s.code, s]),
)

export function tls13CipherSuite(code: number): CipherSuite {
  const s = TLS13_CIPHER_SUITES.get(code)
  if (!s) throw new WireError('unsupported', `TLS 1.3 cipher suite 0x${code.toString(16).padStart(4, '0')} is not supported`)
  return s
}

// The exact bytes of linux/tls.h's crypto_info structs, as setsockopt(SOL_TLS, TLS_TX|TLS_RX) reads
// them. Layout (notes §1.1, measured from the compiled header):
//   struct tls_crypto_info { __u16 version; __u16 cipher_type; }   // host-endian
//   tls12_crypto_info_aes_gcm_128     (40): iv 8@4,  key 16@12, salt 4@28, rec_seq 8@32
//   tls12_crypto_info_aes_gcm_256     (56): iv 8@4,  key 32@12, salt 4@44, rec_seq 8@48
//   tls12_crypto_info_chacha20_poly1305 (56): iv 12@4, key 32@16, salt 0@48, rec_seq 8@48
// rec_seq is big-endian (the kernel treats it as a byte string it increments from the end).

import { WireError } from '../wire/bytes.js'
import { TLS_1_2_VERSION, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, TLS_CIPHER_AES_GCM_256, TLS_CIPHER_CHACHA20_POLY1305, type KtlsCipherType, type TlsVersion } from './constants.js'

export interface CryptoInfo {
  version: TlsVersion
  cipherType: KtlsCipherType
  iv: Uint8Array
  key: Uint8Array
  salt: Uint8Array
  recSeq: Uint8Array
}

interface Layout {
  size: number
  iv: [offset: number, length: number]
  key: [number, number]
  salt: [number, number]
  recSeq: [number, number]
}

export const CRYPTO_INFO_LAYOUT: Record<KtlsCipherType, Layout> = {
  [TLS_CIPHER_AES_GCM_128]: { size: 40, iv: [4, 8], key: [12, 16], salt: [28, 4], recSeq: [32, 8] },
  [TLS_CIPHER_AES_GCM_256]: { size: 56, iv: [4, 8], key: [12, 32], salt: [44, 4], recSeq: [48, 8] },
  [TLS_CIPHER_CHACHA20_POLY1305]: { size: 56, iv: [4, 12], key: [16, 32], salt: [48, 0], recSeq: [48, 8] },
}

/** True on little-endian hosts (x86-64, arm64 Linux): the struct's u16 fields are host-endian. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

export function encodeCryptoInfo(info: CryptoInfo, littleEndian = HOST_LITTLE_ENDIAN): Uint8Array {
  const layout = CRYPTO_INFO_LAYOUT[info.cipherType]
  if (!layout) throw new WireError('unsupported', `cipher_type ${info.cipherType}`)
  if (info.version !== TLS_1_2_VERSION && info.version !== TLS_1_3_VERSION) throw new WireError('unsupported', `version 0x${Number(info.version).toString(16)}`)
  const out = new Uint8Array(layout.size)
  const dv = new DataView(out.buffer)
  dv.setUint16(0, info.version, littleEndian)
  dv.setUint16(2, info.cipherType, littleEndian)
  for (const f of ['iv', 'key', 'salt', 'recSeq'] as const) {
    const [at, len] = layout[f]
    if (info[f].length !== len) throw new WireError('bad-length', `${f} must be ${len} bytes, got ${info[f].length}`)
    out.set(info[f], at)
  }
  return out
}

/** Reads the struct back the way the kernel does: header first, then the size must match the cipher exactly. */
export function decodeCryptoInfo(bytes: Uint8Array, littleEndian = HOST_LITTLE_ENDIAN): CryptoInfo {
  if (bytes.length < 4) throw WireError.truncated(4 - bytes.length, 'tls_crypto_info')
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = dv.getUint16(0, littleEndian)
  const cipherType = dv.getUint16(2, littleEndian)
  if (version !== TLS_1_2_VERSION && version !== TLS_1_3_VERSION) throw new WireError('unsupported', `version 0x${version.toString(16)}`)
  const layout = CRYPTO_INFO_LAYOUT[cipherType as KtlsCipherType]
  if (!layout) throw new WireError('unsupported', `cipher_type ${cipherType}`)
  if (bytes.length !== layout.size) throw new WireError('bad-length', `optlen ${bytes.length} != ${layout.size}`)
  const field = ([at, len]: [number, number]) => bytes.slice(at, at + len)
  return { version, cipherType: cipherType as KtlsCipherType, iv: field(layout.iv), key: field(layout.key), salt: field(layout.salt), recSeq: field(layout.recSeq) }
}

// The AEAD suites the kernel can take over, keyed by the names node:tls reports in getCipher().name
// (OpenSSL names; TLS 1.3 names are the IANA ones). Key lengths: RFC 8446 App. B.4, RFC 5288, RFC 7905.

import { TLS_1_2_VERSION, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, TLS_CIPHER_AES_GCM_256, TLS_CIPHER_CHACHA20_POLY1305, type KtlsCipherType, type TlsVersion } from './constants.js'
import type { SuiteHash } from './hkdf-label.js'

export interface KtlsSuite {
  name: string
  version: TlsVersion
  cipherType: KtlsCipherType
  hash: SuiteHash
  keyLength: number
  /** TLS 1.2 only: bytes of client/server_write_IV in the key block (4 for GCM's salt, 12 for ChaCha). */
  fixedIvLength: number
}

const TLS13: KtlsSuite[] = [
  { name: 'TLS_AES_128_GCM_SHA256', version: TLS_1_3_VERSION, cipherType: TLS_CIPHER_AES_GCM_128, hash: 'sha256', keyLength: 16, fixedIvLength: 12 },
  { name: 'TLS_AES_256_GCM_SHA384', version: TLS_1_3_VERSION, cipherType: TLS_CIPHER_AES_GCM_256, hash: 'sha384', keyLength: 32, fixedIvLength: 12 },
  { name: 'TLS_CHACHA20_POLY1305_SHA256', version: TLS_1_3_VERSION, cipherType: TLS_CIPHER_CHACHA20_POLY1305, hash: 'sha256', keyLength: 32, fixedIvLength: 12 },
]

/** TLS 1.2: the key exchange (ECDHE-RSA, ECDHE-ECDSA, DHE-RSA) does not matter to the record layer. */
const TLS12_BULK: Array<[RegExp, Omit<KtlsSuite, 'name'>]> = [
  [/^(ECDHE-(RSA|ECDSA)|DHE-RSA)-AES128-GCM-SHA256$/, { version: TLS_1_2_VERSION, cipherType: TLS_CIPHER_AES_GCM_128, hash: 'sha256', keyLength: 16, fixedIvLength: 4 }],
  [/^(ECDHE-(RSA|ECDSA)|DHE-RSA)-AES256-GCM-SHA384$/, { version: TLS_1_2_VERSION, cipherType: TLS_CIPHER_AES_GCM_256, hash: 'sha384', keyLength: 32, fixedIvLength: 4 }],
  [/^(ECDHE-(RSA|ECDSA)|DHE-RSA)-CHACHA20-POLY1305$/, { version: TLS_1_2_VERSION, cipherType: TLS_CIPHER_CHACHA20_POLY1305, hash: 'sha256', keyLength: 32, fixedIvLength: 12 }],
]

/** The suite for a negotiated cipher name and protocol ('TLSv1.2' | 'TLSv1.3'), or undefined if kTLS cannot carry it. */
export function ktlsSuite(cipherName: string, protocol: string | null): KtlsSuite | undefined {
  if (protocol === 'TLSv1.3') return TLS13.find((s) => s.name === cipherName)
  if (protocol === 'TLSv1.2') {
    for (const [re, s] of TLS12_BULK) if (re.test(cipherName)) return { name: cipherName, ...s }
  }
  return undefined
}

/**
 * Every suite we may offer when kTLS is wanted, with its IANA code point (RFC 8446 App. B.4; RFC 5289
 * §3 for ECDHE AES-GCM; RFC 7905 §2 for ECDHE ChaCha20-Poly1305). Which of them are really offered
 * depends on what the kernel accepted in the probe (offer.ts).
 */
export const OFFERABLE: ReadonlyArray<{ name: string; code: number; version: TlsVersion; cipherType: KtlsCipherType }> = [
  { name: 'TLS_AES_128_GCM_SHA256', code: 0x1301, version: TLS_1_3_VERSION, cipherType: TLS_CIPHER_AES_GCM_128 },
  { name: 'TLS_AES_256_GCM_SHA384', code: 0x1302, version: TLS_1_3_VERSION, cipherType: TLS_CIPHER_AES_GCM_256 },
  { name: 'TLS_CHACHA20_POLY1305_SHA256', code: 0x1303, version: TLS_1_3_VERSION, cipherType: TLS_CIPHER_CHACHA20_POLY1305 },
  { name: 'ECDHE-ECDSA-AES128-GCM-SHA256', code: 0xc02b, version: TLS_1_2_VERSION, cipherType: TLS_CIPHER_AES_GCM_128 },
  { name: 'ECDHE-RSA-AES128-GCM-SHA256', code: 0xc02f, version: TLS_1_2_VERSION, cipherType: TLS_CIPHER_AES_GCM_128 },
  { name: 'ECDHE-ECDSA-AES256-GCM-SHA384', code: 0xc02c, version: TLS_1_2_VERSION, cipherType: TLS_CIPHER_AES_GCM_256 },
  { name: 'ECDHE-RSA-AES256-GCM-SHA384', code: 0xc030, version: TLS_1_2_VERSION, cipherType: TLS_CIPHER_AES_GCM_256 },
  { name: 'ECDHE-ECDSA-CHACHA20-POLY1305', code: 0xcca9, version: TLS_1_2_VERSION, cipherType: TLS_CIPHER_CHACHA20_POLY1305 },
  { name: 'ECDHE-RSA-CHACHA20-POLY1305', code: 0xcca8, version: TLS_1_2_VERSION, cipherType: TLS_CIPHER_CHACHA20_POLY1305 },
]

/** OpenSSL cipher string of every kernel-capable suite (what is offered when the probe cannot narrow it). */
export const KTLS_CIPHER_LIST = OFFERABLE.map((s) => s.name).join(':')

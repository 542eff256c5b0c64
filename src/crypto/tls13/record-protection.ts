// TLS 1.3 record protection (RFC 8446 §5.2-§5.4): AEAD over TLSInnerPlaintext with the record
// header as additional_data and a per-record nonce. AEADs from @noble/ciphers.

import { gcm } from '@noble/ciphers/aes.js'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ContentType, encodeRecordHeader, MAX_RECORD_FRAGMENT, type TlsRecord } from '../../wire/tls/record.js'
import type { CipherSuite } from './cipher-suites.js'
import type { TrafficKeys } from './key-schedule.js'

/** A record that does not open. Named after the alert a receiver would send (RFC 8446 §5.2, §6.2). */
export class RecordProtectionError extends Error {
  override readonly name = 'RecordProtectionError'
  constructor(
    readonly code: 'bad_record_mac' | 'record_overflow' | 'unexpected_message',
    detail: string,
  ) {
    super(detail)
  }
}

/** Largest TLSInnerPlaintext: 2^14 content + 1 type byte (padding counts too). */
const MAX_INNER_PLAINTEXT = 2 ** 14 + 1

/** nonce = iv XOR (64-bit sequence number, big-endian, left-padded to iv length) (RFC 8446 §5.3). */
export function recordNonce(iv: Uint8Array, sequenceNumber: bigint): Uint8Array {
  const nonce = iv.slice()
  let seq = sequenceNumber
  for (let i = nonce.length - 1; i >= nonce.length - 8; i--) {
    nonce[i] ^= Number(seq & 0xffn)
    seq >>= 8n
  }
  return nonce
}

function aead(suite: CipherSuite, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) {
  return suite.aead === 'aes-gcm' ? gcm(key, nonce, aad) : chacha20poly1305(key, nonce, aad)
}

export interface InnerPlaintext {
  /** TLSInnerPlaintext.type, the real content type. */
  type: number
  content: Uint8Array
  /** Number of zero padding bytes that were stripped. */
  padding: number
}

/** Opens one TLSCiphertext (outer type must be application_data in TLS 1.3; we do not insist). */
export function decryptRecord(suite: CipherSuite, keys: TrafficKeys, sequenceNumber: bigint, record: TlsRecord): InnerPlaintext {
  const ciphertext = record.fragment
  if (ciphertext.length > MAX_RECORD_FRAGMENT) throw new RecordProtectionError('record_overflow', 'TLSCiphertext longer than 2^14+256')
  if (ciphertext.length < suite.tagLength + 1) throw new RecordProtectionError('bad_record_mac', 'TLSCiphertext shorter than tag + type')
  const aad = encodeRecordHeader(record.type, record.legacyVersion, ciphertext.length)
  let inner: Uint8Array
  try {
    inner = aead(suite, keys.key, recordNonce(keys.iv, sequenceNumber), aad).decrypt(ciphertext)
  } catch {
    throw new RecordProtectionError('bad_record_mac', `record ${sequenceNumber}: AEAD tag did not verify`)
  }
  if (inner.length > MAX_INNER_PLAINTEXT) throw new RecordProtectionError('record_overflow', 'TLSInnerPlaintext longer than 2^14+1')
  // The content type is the last non-zero byte; zeros after it are padding (RFC 8446 §5.4).
  let end = inner.length - 1
  while (end >= 0 && inner[end] === 0) end--
  if (end < 0) throw new RecordProtectionError('unexpected_message', 'TLSInnerPlaintext has no non-zero content type')
  return { type: inner[end], content: inner.subarray(0, end), padding: inner.length - 1 - end }
}

/** Seals content as TLSCiphertext (outer type application_data, legacy_record_version 0x0303). */
export function encryptRecord(
  suite: CipherSuite,
  keys: TrafficKeys,
  sequenceNumber: bigint,
  type: number,
  content: Uint8Array,
  padding = 0,
): TlsRecord {
  const inner = new Uint8Array(content.length + 1 + padding)
  inner.set(content)
  inner[content.length] = type
  if (inner.length > MAX_INNER_PLAINTEXT) throw new RecordProtectionError('record_overflow', 'TLSInnerPlaintext longer than 2^14+1')
  const length = inner.length + suite.tagLength
  const aad = encodeRecordHeader(ContentType.applicationData, 0x0303, length)
  const fragment = aead(suite, keys.key, recordNonce(keys.iv, sequenceNumber), aad).encrypt(inner)
  return { type: ContentType.applicationData, legacyVersion: 0x0303, fragment }
}

import { describe, expect, it } from 'vitest'
import { fromHex, toHex } from '../../wire/bytes.js'
import { decodeRecord } from '../../wire/tls/record.js'
import { TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256 } from './cipher-suites.js'
import { trafficKeys } from './key-schedule.js'
import { decryptRecord, encryptRecord, RecordProtectionError, recordNonce } from './record-protection.js'
import v from './rfc8448-section3.vectors.json' with { type: 'json' }

const suite = TLS_AES_128_GCM_SHA256
const serverHs = { key: fromHex(v.serverHandshakeKey), iv: fromHex(v.serverHandshakeIv) }
const clientHs = { key: fromHex(v.clientHandshakeKey), iv: fromHex(v.clientHandshakeIv) }

describe('TLS 1.3 record protection (RFC 8448 §3)', () => {
  it('decrypts the server handshake record into EncryptedExtensions..Finished', () => {
    const { record } = decodeRecord(fromHex(v.serverHandshakeRecord))
    const inner = decryptRecord(suite, serverHs, 0n, record)
    expect(inner.type).toBe(22)
    expect(inner.padding).toBe(0)
    // EE 40 + Certificate 445 + CertificateVerify 136 + Finished 36 bytes (RFC 8448 §3 message sizes).
    expect(inner.content.length).toBe(40 + 445 + 136 + 36)
    expect(toHex(inner.content.subarray(0, 40))).toBe(v.serverFlightPlaintextFirstMessage)
    expect(toHex(inner.content.subarray(inner.content.length - 36))).toBe(v.serverFinished)
  })

  it('re-encrypts the client Finished into the RFC record byte for byte', () => {
    const sealed = encryptRecord(suite, clientHs, 0n, 22, fromHex(v.clientFinished))
    expect(toHex(Uint8Array.of(0x17, 0x03, 0x03, 0x00, sealed.fragment.length, ...sealed.fragment))).toBe(v.clientFinishedRecord)
  })

  it('uses the sequence number in the nonce (RFC 8446 §5.3)', () => {
    // 0x0a ^ 0x01 = 0x0b, 0x0b ^ 0x02 = 0x09: only the last 8 bytes mix with the sequence number.
    expect(toHex(recordNonce(fromHex('000102030405060708090a0b'), 0x0102n))).toBe('000102030405060708090b09')
    const { record } = decodeRecord(fromHex(v.serverHandshakeRecord))
    expect(() => decryptRecord(suite, serverHs, 1n, record)).toThrowError(RecordProtectionError)
  })

  it('gives a typed bad_record_mac for a flipped bit, a short record, or the wrong key', () => {
    const { record } = decodeRecord(fromHex(v.serverHandshakeRecord))
    const flipped = { ...record, fragment: record.fragment.slice() }
    flipped.fragment[100] ^= 1
    const codeOf = (f: () => unknown): string => {
      try {
        f()
        return 'ok'
      } catch (e) {
        expect(e).toBeInstanceOf(RecordProtectionError)
        return (e as RecordProtectionError).code
      }
    }
    expect(codeOf(() => decryptRecord(suite, serverHs, 0n, flipped))).toBe('bad_record_mac')
    expect(codeOf(() => decryptRecord(suite, serverHs, 0n, { ...record, fragment: record.fragment.subarray(0, 10) }))).toBe('bad_record_mac')
    expect(codeOf(() => decryptRecord(suite, clientHs, 0n, record))).toBe('bad_record_mac')
    // additional_data is the header: a different legacy_record_version must fail too.
    expect(codeOf(() => decryptRecord(suite, serverHs, 0n, { ...record, legacyVersion: 0x0301 }))).toBe('bad_record_mac')
  })

  it('round-trips every suite with padding, and rejects all-zero inner plaintext', () => {
    for (const s of [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256]) {
      const keys = trafficKeys(s, new Uint8Array(s.hashLength).fill(7))
      const sealed = encryptRecord(s, keys, 5n, 23, fromHex('68656c6c6f'), 9)
      expect(sealed.fragment.length).toBe(5 + 1 + 9 + 16)
      const opened = decryptRecord(s, keys, 5n, sealed)
      expect([opened.type, toHex(opened.content), opened.padding]).toEqual([23, '68656c6c6f', 9])
      const zeros = encryptRecord(s, keys, 0n, 0, new Uint8Array(0), 3)
      expect(() => decryptRecord(s, keys, 0n, zeros)).toThrowError(expect.objectContaining({ code: 'unexpected_message' }))
    }
  })
})

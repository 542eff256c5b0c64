import { describe, expect, it } from 'vitest'
import { fromHex, toHex, WireError } from '../bytes.js'
import { decodeRecord, encodeRecord, MAX_RECORD_FRAGMENT } from './record.js'
import vectors from './rfc8448.vectors.json' with { type: 'json' }

const codeOf = (f: () => unknown): string => {
  try {
    f()
    return 'ok'
  } catch (e) {
    expect(e).toBeInstanceOf(WireError)
    return (e as WireError).code
  }
}

describe('TLS record framing', () => {
  it('reads the RFC 8448 §3 ClientHello record (16 03 01 00 c4)', () => {
    const bytes = fromHex(vectors.clientHelloRecord)
    const { record, used } = decodeRecord(bytes)
    expect([record.type, record.legacyVersion, record.fragment.length, used]).toEqual([22, 0x0301, 0xc4, 0xc4 + 5])
    expect(toHex(encodeRecord(record))).toBe(vectors.clientHelloRecord)
  })

  it('says how many bytes are missing', () => {
    const bytes = fromHex(vectors.clientHelloRecord)
    try {
      decodeRecord(bytes.subarray(0, 100))
      expect.unreachable()
    } catch (e) {
      expect((e as WireError).code).toBe('truncated')
      expect((e as WireError).needed).toBe(bytes.length - 100)
    }
    expect((() => { try { decodeRecord(bytes.subarray(0, 3)) } catch (e) { return (e as WireError).needed } })()).toBe(2)
  })

  it('rejects headers that are not TLS', () => {
    expect(codeOf(() => decodeRecord(fromHex('1703034101')))).toBe('bad-length') // 0x4101 > 2^14+256
    expect(codeOf(() => decodeRecord(fromHex('1703034100' + '00'.repeat(0x4100))))).toBe('ok') // exactly 2^14+256
    expect(codeOf(() => decodeRecord(fromHex('47455420')))).toBe('bad-value') // "GET "
    expect(codeOf(() => decodeRecord(fromHex('16')))).toBe('truncated')
    expect(codeOf(() => decodeRecord(fromHex('1604')))).toBe('bad-value') // version major 4
    expect(codeOf(() => encodeRecord({ type: 23, legacyVersion: 0x0303, fragment: new Uint8Array(MAX_RECORD_FRAGMENT + 1) }))).toBe('bad-length')
  })
})

import { describe, expect, it } from 'vitest'
import { sha256 } from '@noble/hashes/sha2.js'
import { fromHex, toHex } from '../bytes.js'
import { encodeKeyShareHelloRetryRequest, encodeSupportedVersionsServer, NamedGroup } from './extension-data.js'
import { decodeHandshake, HandshakeType } from './handshake.js'
import { decodeRecord } from './record.js'
import { decodeServerHello, encodeServerHello, HELLO_RETRY_REQUEST_RANDOM, isHelloRetryRequest, viewServerHello } from './server-hello.js'
import vectors from './rfc8448.vectors.json' with { type: 'json' }

const shRecord = decodeRecord(fromHex(vectors.serverHelloRecord)).record
const sh = decodeHandshake(shRecord.fragment).message

describe('ServerHello', () => {
  it('decodes the RFC 8448 §3 ServerHello into the fields the RFC lists', () => {
    expect([shRecord.type, shRecord.legacyVersion, sh.msgType]).toEqual([22, 0x0303, HandshakeType.serverHello])
    const h = decodeServerHello(sh.body)
    expect(h.legacyVersion).toBe(0x0303)
    expect(toHex(h.random)).toBe('a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928')
    expect(h.legacySessionIdEcho.length).toBe(0)
    expect(h.cipherSuite).toBe(0x1301)
    expect(h.legacyCompressionMethod).toBe(0)
    expect(h.extensions?.map((e) => e.type)).toEqual([51, 43])
    expect(viewServerHello(h)).toEqual({ helloRetryRequest: false, selectedVersion: 0x0304, keyShareGroup: NamedGroup.x25519 })
    expect(toHex(encodeServerHello(h))).toBe(toHex(sh.body))
  })

  it('knows the HelloRetryRequest random of RFC 8446 §4.1.3', () => {
    // RFC 8446 §4.1.3 prints the value: CF 21 AD 74 E5 9A 61 11 BE 1D 8C 02 1E 65 B8 91 C2 A2 11 16 7A BB 8C 5E 07 9E 09 E2 C8 A8 33 9C
    expect(toHex(HELLO_RETRY_REQUEST_RANDOM)).toBe('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c')
    // ... which is SHA-256 of the ASCII string, as the RFC says.
    expect(toHex(HELLO_RETRY_REQUEST_RANDOM)).toBe(toHex(sha256(new TextEncoder().encode('HelloRetryRequest'))))
    const hrr = {
      legacyVersion: 0x0303,
      random: HELLO_RETRY_REQUEST_RANDOM,
      legacySessionIdEcho: new Uint8Array(0),
      cipherSuite: 0x1301,
      legacyCompressionMethod: 0,
      extensions: [encodeKeyShareHelloRetryRequest(NamedGroup.secp256r1), encodeSupportedVersionsServer(0x0304)],
    }
    const back = decodeServerHello(encodeServerHello(hrr))
    expect(isHelloRetryRequest(back)).toBe(true)
    expect(viewServerHello(back)).toEqual({ helloRetryRequest: true, selectedVersion: 0x0304, keyShareGroup: NamedGroup.secp256r1 })
    expect(isHelloRetryRequest(decodeServerHello(sh.body))).toBe(false)
  })

  it('decodes a TLS 1.2 ServerHello without extensions', () => {
    const body = fromHex('0303' + '11'.repeat(32) + '00' + 'c02f' + '00')
    const h = decodeServerHello(body)
    expect([h.cipherSuite, h.extensions]).toEqual([0xc02f, undefined])
    expect(viewServerHello(h)).toEqual({ helloRetryRequest: false })
    expect(toHex(encodeServerHello(h))).toBe(toHex(body))
  })
})

import { describe, expect, it } from 'vitest'
import { fromHex, toHex, WireError } from '../bytes.js'
import { decodeClientHello, encodeClientHello, viewClientHello } from './client-hello.js'
import {
  encodeKeyShareClientHello,
  encodePskKeyExchangeModes,
  encodeServerName,
  encodeSessionTicket,
  encodeSignatureAlgorithms,
  encodeSupportedGroups,
  encodeSupportedVersionsClient,
  NamedGroup,
} from './extension-data.js'
import { ExtensionType } from './extensions.js'
import { isGrease } from './grease.js'
import { decodeHandshake, encodeHandshake, HandshakeType } from './handshake.js'
import { decodeRecord } from './record.js'
import vectors from './rfc8448.vectors.json' with { type: 'json' }

// RFC 8448 §3: the ClientHello record; the field values below are the ones the RFC's trace lists.
const chRecord = fromHex(vectors.clientHelloRecord)
const chMessage = decodeRecord(chRecord).record.fragment
const chBody = decodeHandshake(chMessage).message.body

describe('ClientHello', () => {
  it('decodes the RFC 8448 §3 ClientHello into the fields the RFC lists', () => {
    expect(decodeHandshake(chMessage).message.msgType).toBe(HandshakeType.clientHello)
    const h = decodeClientHello(chBody)
    expect(h.legacyVersion).toBe(0x0303)
    expect(toHex(h.random)).toBe('cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7')
    expect(h.legacySessionId.length).toBe(0)
    expect(h.cipherSuites).toEqual([0x1301, 0x1303, 0x1302])
    expect(h.legacyCompressionMethods).toEqual([0])
    expect(h.extensions?.map((e) => e.type)).toEqual([0, 0xff01, 10, 35, 51, 43, 13, 45, 28])
    const v = viewClientHello(h)
    expect(v.serverName).toBe('server')
    expect(v.supportedGroups).toEqual([0x1d, 0x17, 0x18, 0x19, 0x100, 0x101, 0x102, 0x103, 0x104])
    expect(v.keyShareGroups).toEqual([0x1d])
    expect(v.supportedVersions).toEqual([0x0304])
    expect(v.signatureAlgorithms).toEqual([
      0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201, 0x0402, 0x0502, 0x0602, 0x0202,
    ])
    expect(v.pskKeyExchangeModes).toEqual([1])
    expect(v.hasPreSharedKey).toBe(false)
  })

  it('re-encodes the RFC 8448 ClientHello byte for byte', () => {
    expect(toHex(encodeClientHello(decodeClientHello(chBody)))).toBe(toHex(chBody))
  })

  it('builds the RFC 8448 ClientHello from typed values', () => {
    const body = encodeClientHello({
      legacyVersion: 0x0303,
      random: fromHex('cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7'),
      legacySessionId: new Uint8Array(0),
      cipherSuites: [0x1301, 0x1303, 0x1302],
      legacyCompressionMethods: [0],
      extensions: [
        encodeServerName('server'),
        { type: ExtensionType.renegotiationInfo, data: fromHex('00') },
        encodeSupportedGroups([NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1, NamedGroup.secp521r1, 0x100, 0x101, 0x102, 0x103, 0x104]),
        encodeSessionTicket(),
        encodeKeyShareClientHello([{ group: NamedGroup.x25519, keyExchange: fromHex(vectors.clientKeyShareX25519) }]),
        encodeSupportedVersionsClient([0x0304]),
        encodeSignatureAlgorithms([0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201, 0x0402, 0x0502, 0x0602, 0x0202]),
        encodePskKeyExchangeModes([1]),
        { type: ExtensionType.recordSizeLimit, data: fromHex('4001') },
      ],
    })
    expect(toHex(encodeHandshake({ msgType: HandshakeType.clientHello, body }))).toBe(toHex(chMessage))
  })

  it('keeps GREASE and unknown extensions byte-exact', () => {
    const h = decodeClientHello(chBody)
    h.cipherSuites.unshift(0x3a3a)
    h.extensions!.unshift({ type: 0xdada, data: new Uint8Array(0) }, { type: 0x1234, data: fromHex('deadbeef') })
    const again = decodeClientHello(encodeClientHello(h))
    expect(again.extensions!.slice(0, 2).map((e) => [e.type, toHex(e.data)])).toEqual([[0xdada, ''], [0x1234, 'deadbeef']])
    expect(isGrease(again.cipherSuites[0])).toBe(true)
    expect(isGrease(again.extensions![0].type)).toBe(true)
    expect(isGrease(again.extensions![1].type)).toBe(false)
  })

  it('accepts a hello without an extensions block and keeps it that way', () => {
    // legacy_version 0x0301, zero random, empty session id, one suite (0x002f), null compression.
    const body = fromHex('0301' + '00'.repeat(32) + '00' + '0002002f' + '0100')
    const h = decodeClientHello(body)
    expect(h.extensions).toBeUndefined()
    expect(toHex(encodeClientHello(h))).toBe(toHex(body))
  })

  it('rejects malformed hellos with typed errors', () => {
    const codeOf = (hex: string): string => {
      try {
        decodeClientHello(fromHex(hex))
        return 'ok'
      } catch (e) {
        expect(e).toBeInstanceOf(WireError)
        return (e as WireError).code
      }
    }
    const base = '0303' + '00'.repeat(32)
    expect(codeOf(base + '21' + '00'.repeat(33) + '0002002f0100')).toBe('bad-length') // 33-byte session id
    expect(codeOf(base + '00' + '0003002f00' + '0100')).toBe('bad-length') // odd cipher_suites
    expect(codeOf(base + '00' + '0002002f' + '00')).toBe('bad-length') // no compression method
    expect(codeOf(base + '00' + '0002002f0100' + '0004' + '0000')).toBe('bad-length') // extensions block overrun
    expect(codeOf(base + '00' + '0002002f0100' + '0000' + 'ff')).toBe('trailing')
    expect(codeOf(base.slice(0, 20))).toBe('bad-length')
  })
})

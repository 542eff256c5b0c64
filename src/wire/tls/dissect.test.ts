import { describe, expect, it } from 'vitest'
import { concatBytes, fromHex } from '../bytes.js'
import { encodeClientHello } from './client-hello.js'
import { encodeKeyShareHelloRetryRequest, encodeServerName, encodeSupportedVersionsClient, encodeSupportedVersionsServer } from './extension-data.js'
import { encodeHandshake, HandshakeType } from './handshake.js'
import { encodeRecord } from './record.js'
import { encodeServerHello, HELLO_RETRY_REQUEST_RANDOM } from './server-hello.js'
import { dissectTlsConversation } from './dissect.js'
import vectors from './rfc8448.vectors.json' with { type: 'json' }
import crypto from '../../crypto/tls13/rfc8448-section3.vectors.json' with { type: 'json' }

const record = (type: number, fragment: Uint8Array, legacyVersion = 0x0303) => encodeRecord({ type, legacyVersion, fragment })
const hs = (msgType: number, body: Uint8Array) => encodeHandshake({ msgType, body })
const opaque = (n: number, fill = 0x5a) => new Uint8Array(n).fill(fill)
const rows = (d: { records: { type: number; encrypted: boolean }[] }) => d.records.map((r) => [r.type, r.encrypted])

const clientHello12 = encodeClientHello({
  legacyVersion: 0x0303, random: opaque(32, 1), legacySessionId: new Uint8Array(0),
  cipherSuites: [0xc02f], legacyCompressionMethods: [0], extensions: [encodeServerName('tls12.test')],
})
const serverHello12 = encodeServerHello({
  legacyVersion: 0x0303, random: opaque(32, 2), legacySessionIdEcho: opaque(32, 3), cipherSuite: 0xc02f, legacyCompressionMethod: 0, extensions: [],
})

describe('dissectTlsConversation', () => {
  it('dissects the RFC 8448 §3 connection (TLS 1.3)', () => {
    const c2s = concatBytes(fromHex(vectors.clientHelloRecord), fromHex(crypto.clientFinishedRecord), fromHex(crypto.clientApplicationDataRecord))
    const s2c = concatBytes(fromHex(vectors.serverHelloRecord), fromHex(crypto.serverHandshakeRecord), fromHex(crypto.serverNewSessionTicketRecord))
    const d = dissectTlsConversation(c2s, s2c)
    expect(d.client.error).toBeUndefined()
    expect(d.server.error).toBeUndefined()
    expect(d.client.records.map((r) => [r.index, r.offset, r.type, r.version, r.length, r.encrypted])).toEqual([
      [0, 0, 22, 0x0301, 0xc4, false],
      [1, 0xc9, 23, 0x0303, 0x35, true],
      [2, 0xc9 + 0x3a, 23, 0x0303, 0x43, true],
    ])
    expect(rows(d.server)).toEqual([[22, false], [23, true], [23, true]])
    const ch = d.client.handshakes[0]
    expect([ch.type, ch.length, ch.firstRecord, ch.lastRecord]).toEqual([1, 0xc0, 0, 0])
    expect(ch.clientHello).toMatchObject({
      version: 0x0303,
      random: 'cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7',
      sessionId: '',
      cipherSuites: [0x1301, 0x1303, 0x1302],
      compressionMethods: [0],
      sni: 'server',
      supportedVersions: [0x0304],
      keyShareGroups: [0x1d],
      pskModes: [1],
      hasPreSharedKey: false,
    })
    expect(ch.clientHello!.extensions).toEqual([
      { type: 0, length: 11 }, { type: 0xff01, length: 1 }, { type: 10, length: 20 }, { type: 35, length: 0 },
      { type: 51, length: 38 }, { type: 43, length: 3 }, { type: 13, length: 32 }, { type: 45, length: 2 }, { type: 28, length: 2 },
    ])
    expect(d.server.handshakes.map((h) => h.type)).toEqual([HandshakeType.serverHello])
    expect(d.server.handshakes[0].serverHello).toMatchObject({ cipherSuite: 0x1301, selectedVersion: 0x0304, keyShareGroup: 0x1d, helloRetryRequest: false })
  })

  it('TLS 1.2: records after a direction\'s ChangeCipherSpec are encrypted, the Finished is not parsed', () => {
    const c2s = concatBytes(
      record(22, hs(1, clientHello12), 0x0301),
      record(22, hs(HandshakeType.clientKeyExchange, opaque(33))),
      record(20, fromHex('01')),
      record(22, opaque(40, 0x0b)), // encrypted Finished: its first byte would read as "Certificate"
      record(23, opaque(30)),
    )
    const s2c = concatBytes(
      record(22, concatBytes(hs(2, serverHello12), hs(11, opaque(500)), hs(14, new Uint8Array(0)))),
      record(20, fromHex('01')),
      record(22, opaque(40, 0x01)),
      record(21, opaque(26)), // encrypted alert: not decoded
    )
    const d = dissectTlsConversation(c2s, s2c)
    expect(rows(d.client)).toEqual([[22, false], [22, false], [20, false], [22, true], [23, true]])
    expect(d.client.handshakes.map((h) => h.type)).toEqual([1, 16])
    expect(d.client.handshakes[0].clientHello?.sni).toBe('tls12.test')
    expect(rows(d.server)).toEqual([[22, false], [20, false], [22, true], [21, true]])
    expect(d.server.handshakes.map((h) => [h.type, h.firstRecord, h.lastRecord])).toEqual([[2, 0, 0], [11, 0, 0], [14, 0, 0]])
    expect(d.server.handshakes[0].serverHello?.selectedVersion).toBeUndefined()
    expect(d.server.records[3].alert).toBeUndefined()
    expect(d.client.error).toBeUndefined()
    expect(d.server.error).toBeUndefined()
  })

  it('TLS 1.3 with HelloRetryRequest: the second ClientHello after CCS is still plaintext', () => {
    const ch = (n: number) => encodeClientHello({
      legacyVersion: 0x0303, random: opaque(32, n), legacySessionId: opaque(32, 9), cipherSuites: [0x1301],
      legacyCompressionMethods: [0], extensions: [encodeServerName('hrr.test'), encodeSupportedVersionsClient([0x0304])],
    })
    const sh = (random: Uint8Array, ext: ReturnType<typeof encodeKeyShareHelloRetryRequest>[]) => encodeServerHello({
      legacyVersion: 0x0303, random, legacySessionIdEcho: opaque(32, 9), cipherSuite: 0x1301, legacyCompressionMethod: 0, extensions: ext,
    })
    const c2s = concatBytes(record(22, hs(1, ch(1)), 0x0301), record(20, fromHex('01')), record(22, hs(1, ch(2))), record(23, opaque(53)))
    const s2c = concatBytes(
      record(22, hs(2, sh(HELLO_RETRY_REQUEST_RANDOM, [encodeKeyShareHelloRetryRequest(0x17), encodeSupportedVersionsServer(0x0304)]))),
      record(20, fromHex('01')),
      record(22, hs(2, sh(opaque(32, 7), [encodeSupportedVersionsServer(0x0304)]))),
      record(20, fromHex('01')),
      record(23, opaque(100)),
    )
    const d = dissectTlsConversation(c2s, s2c)
    expect(rows(d.client)).toEqual([[22, false], [20, false], [22, false], [23, true]])
    expect(d.client.handshakes.map((h) => h.clientHello?.random.slice(0, 2))).toEqual(['01', '02'])
    expect(rows(d.server)).toEqual([[22, false], [20, false], [22, false], [20, false], [23, true]])
    expect(d.server.handshakes.map((h) => [h.serverHello?.helloRetryRequest, h.serverHello?.keyShareGroup])).toEqual([[true, 0x17], [false, undefined]])
  })

  it('stops a direction at a malformed record and says where', () => {
    const good = record(22, hs(1, clientHello12), 0x0301)
    const d = dissectTlsConversation(concatBytes(good, fromHex('474554202f20485454502f312e310d0a')), concatBytes(record(21, fromHex('0228'))))
    expect(d.client.records.length).toBe(1)
    expect(d.client.error).toMatchObject({ code: 'bad-value', offset: good.length })
    expect(d.server.records[0].alert).toEqual({ level: 2, description: 40 })
    expect(d.server.error).toBeUndefined()
  })

  it('reports a stream cut inside a record, and a malformed hello, as errors', () => {
    const cut = record(22, hs(1, clientHello12), 0x0301)
    expect(dissectTlsConversation(cut.subarray(0, 30), new Uint8Array(0)).client.error).toMatchObject({ code: 'truncated', offset: 0 })
    // A ClientHello whose cipher_suites vector has an odd length.
    const bad = record(22, hs(1, fromHex('0303' + '00'.repeat(32) + '00' + '0003002f00' + '0100')), 0x0301)
    const d = dissectTlsConversation(bad, new Uint8Array(0))
    expect(d.client.handshakes.length).toBe(1)
    expect(d.client.handshakes[0].clientHello).toBeUndefined()
    expect(d.client.error).toMatchObject({ code: 'bad-length', offset: 0 })
  })
})

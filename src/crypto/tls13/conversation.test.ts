import { describe, expect, it } from 'vitest'
import { concatBytes, fromHex, toHex } from '../../wire/bytes.js'
import { parseKeylog } from '../../wire/keylog.js'
import { dissectTlsConversation } from '../../wire/tls/dissect.js'
import { HandshakeType } from '../../wire/tls/handshake.js'
import { encodeHandshake } from '../../wire/tls/handshake.js'
import { encodeRecord } from '../../wire/tls/record.js'
import { TLS_AES_128_GCM_SHA256 } from './cipher-suites.js'
import { decryptTls13Conversation, negotiatedCipherSuite, secretsForConversation } from './conversation.js'
import { nextApplicationTrafficSecret, trafficKeys } from './key-schedule.js'
import { encryptRecord } from './record-protection.js'
import v from './rfc8448-section3.vectors.json' with { type: 'json' }

// The RFC 8448 §3 connection as the two TCP streams carried it, records in the RFC's order.
const clientToServer = concatBytes(
  fromHex('16030100c4' + v.clientHello),
  fromHex(v.clientFinishedRecord),
  fromHex(v.clientApplicationDataRecord),
  fromHex(v.clientAlertRecord),
)
const serverToClient = concatBytes(
  fromHex('160303005a' + v.serverHello),
  fromHex(v.serverHandshakeRecord),
  fromHex(v.serverNewSessionTicketRecord),
  fromHex(v.serverApplicationDataRecord),
  fromHex(v.serverAlertRecord),
)
const CLIENT_RANDOM = 'cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7'
const keylog = [
  `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${CLIENT_RANDOM} ${v.clientHandshakeTrafficSecret}`,
  `SERVER_HANDSHAKE_TRAFFIC_SECRET ${CLIENT_RANDOM} ${v.serverHandshakeTrafficSecret}`,
  `CLIENT_TRAFFIC_SECRET_0 ${CLIENT_RANDOM} ${v.clientApplicationTrafficSecret0}`,
  `SERVER_TRAFFIC_SECRET_0 ${CLIENT_RANDOM} ${v.serverApplicationTrafficSecret0}`,
].join('\n')

describe('decryptTls13Conversation (RFC 8448 §3)', () => {
  const dissection = dissectTlsConversation(clientToServer, serverToClient)

  it('finds the secrets and suite from the dissection', () => {
    expect(negotiatedCipherSuite(dissection)).toBe(0x1301)
    expect(secretsForConversation(dissection, parseKeylog(keylog))).toBeDefined()
  })

  it('decrypts both directions, switching to application keys after each Finished', () => {
    const secrets = secretsForConversation(dissection, parseKeylog(keylog))!
    const out = decryptTls13Conversation({ dissection, clientToServer, serverToClient, secrets, cipherSuite: 0x1301 })
    expect(out.server.error).toBeUndefined()
    expect(out.client.error).toBeUndefined()
    expect(out.server.records.map((r) => [r.epoch, Number(r.sequenceNumber), r.innerType, r.handshakeTypes])).toEqual([
      ['handshake', 0, 22, [HandshakeType.encryptedExtensions, HandshakeType.certificate, HandshakeType.certificateVerify, HandshakeType.finished]],
      ['application', 0, 22, [HandshakeType.newSessionTicket]],
      ['application', 1, 23, []],
      ['application', 2, 21, []],
    ])
    expect(out.client.records.map((r) => [r.epoch, Number(r.sequenceNumber), r.innerType, r.handshakeTypes])).toEqual([
      ['handshake', 0, 22, [HandshakeType.finished]],
      ['application', 0, 23, []],
      ['application', 1, 21, []],
    ])
    // RFC 8448 §3: both sides send the 50 bytes 00 01 .. 31, then close_notify (warning, 0).
    expect(toHex(out.client.records[1].plaintext)).toBe(v.applicationData)
    expect(toHex(out.server.records[2].plaintext)).toBe(v.applicationData)
    expect(toHex(out.client.records[2].plaintext)).toBe('0100')
    expect(toHex(out.client.records[0].plaintext)).toBe(v.clientFinished)
  })

  it('stops a direction with a typed error when a secret is missing or wrong', () => {
    const secrets = secretsForConversation(dissection, parseKeylog(keylog))!
    const noApp = { ...secrets, SERVER_TRAFFIC_SECRET_0: undefined }
    const out = decryptTls13Conversation({ dissection, clientToServer, serverToClient, secrets: noApp, cipherSuite: 0x1301 })
    expect(out.server.records.length).toBe(1)
    expect(out.server.error).toMatchObject({ code: 'missing-secret', recordIndex: 2 })
    const swapped = { ...secrets, SERVER_HANDSHAKE_TRAFFIC_SECRET: secrets.CLIENT_HANDSHAKE_TRAFFIC_SECRET }
    const bad = decryptTls13Conversation({ dissection, clientToServer, serverToClient, secrets: swapped, cipherSuite: 0x1301 })
    expect(bad.server.error).toMatchObject({ code: 'bad_record_mac', recordIndex: 1 })
    const wrongSuite = decryptTls13Conversation({ dissection, clientToServer, serverToClient, secrets, cipherSuite: 0xc02f })
    expect(wrongSuite.client.error?.code).toBe('unsupported')
  })
})

describe('decryptTls13Conversation key changes beyond RFC 8448 §3', () => {
  // Synthetic streams sealed with encryptRecord (itself checked against the RFC 8448 records above),
  // under made-up secrets: what matters here is which keys each record is expected under.
  const suite = TLS_AES_128_GCM_SHA256
  const secret = (b: number) => new Uint8Array(32).fill(b)
  const secrets = {
    CLIENT_EARLY_TRAFFIC_SECRET: secret(0x11),
    CLIENT_HANDSHAKE_TRAFFIC_SECRET: secret(0x22),
    CLIENT_TRAFFIC_SECRET_0: secret(0x33),
  }
  const seal = (s: Uint8Array, seq: bigint, type: number, content: Uint8Array) =>
    encodeRecord(encryptRecord(suite, trafficKeys(suite, s), seq, type, content))
  const hs = (msgType: number, body: Uint8Array) => encodeHandshake({ msgType, body })
  const text = (s: string) => new TextEncoder().encode(s)
  const serverToClient = fromHex('160303005a' + v.serverHello)
  const clientHelloRecord = fromHex('16030100c4' + v.clientHello)
  const run = (clientToServer: Uint8Array) => {
    const dissection = dissectTlsConversation(clientToServer, serverToClient)
    return decryptTls13Conversation({ dissection, clientToServer, serverToClient, secrets, cipherSuite: 0x1301 }).client
  }
  const rowsOf = (d: ReturnType<typeof run>) => d.records.map((r) => [r.epoch, r.generation, Number(r.sequenceNumber), r.innerType, r.handshakeTypes])

  it('follows accepted 0-RTT through EndOfEarlyData, Finished and a KeyUpdate', () => {
    const next = nextApplicationTrafficSecret(suite, secrets.CLIENT_TRAFFIC_SECRET_0)
    const out = run(concatBytes(
      clientHelloRecord,
      seal(secrets.CLIENT_EARLY_TRAFFIC_SECRET, 0n, 23, text('early')),
      seal(secrets.CLIENT_EARLY_TRAFFIC_SECRET, 1n, 22, hs(HandshakeType.endOfEarlyData, new Uint8Array(0))),
      seal(secrets.CLIENT_HANDSHAKE_TRAFFIC_SECRET, 0n, 22, hs(HandshakeType.finished, new Uint8Array(32))),
      seal(secrets.CLIENT_TRAFFIC_SECRET_0, 0n, 23, text('gen0')),
      seal(secrets.CLIENT_TRAFFIC_SECRET_0, 1n, 22, hs(HandshakeType.keyUpdate, Uint8Array.of(0))),
      seal(next, 0n, 23, text('gen1')),
    ))
    expect(out.error).toBeUndefined()
    expect(rowsOf(out)).toEqual([
      ['early', 0, 0, 23, []],
      ['early', 0, 1, 22, [HandshakeType.endOfEarlyData]],
      ['handshake', 0, 0, 22, [HandshakeType.finished]],
      ['application', 0, 0, 23, []],
      ['application', 0, 1, 22, [HandshakeType.keyUpdate]],
      ['application', 1, 0, 23, []],
    ])
    expect(new TextDecoder().decode(out.records[5].plaintext)).toBe('gen1')
  })

  it('moves to the handshake keys when 0-RTT was rejected (no EndOfEarlyData)', () => {
    const out = run(concatBytes(
      clientHelloRecord,
      seal(secrets.CLIENT_EARLY_TRAFFIC_SECRET, 0n, 23, text('early')),
      seal(secrets.CLIENT_HANDSHAKE_TRAFFIC_SECRET, 0n, 22, hs(HandshakeType.finished, new Uint8Array(32))),
      seal(secrets.CLIENT_TRAFFIC_SECRET_0, 0n, 23, text('app')),
    ))
    expect(out.error).toBeUndefined()
    expect(rowsOf(out)).toEqual([
      ['early', 0, 0, 23, []],
      ['handshake', 0, 0, 22, [HandshakeType.finished]],
      ['application', 0, 0, 23, []],
    ])
  })
})

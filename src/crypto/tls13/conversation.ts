// Decrypts the encrypted records of a dissected TLS 1.3 conversation with the secrets from a key
// log, the way Wireshark does with SSLKEYLOGFILE: each direction starts under its handshake traffic
// secret and moves to application traffic secret 0 after its own Finished (RFC 8446 §7.1), and
// to the next generation after a KeyUpdate (§7.2). Sequence numbers restart at 0 on every key change.
// With CLIENT_EARLY_TRAFFIC_SECRET logged, the client starts under the early keys (0-RTT) and moves
// to its handshake keys after EndOfEarlyData, or at the first record the early keys do not open
// (the server rejected 0-RTT, so no EndOfEarlyData is sent: RFC 8446 §4.5).

import type { KeylogSecrets } from '../../wire/keylog.js'
import { ContentType } from '../../wire/tls/record.js'
import type { ConversationDissection, DirectionDissection } from '../../wire/tls/dissect.js'
import { HandshakeType } from '../../wire/tls/handshake.js'
import { HandshakeReader } from '../../wire/tls/handshake-reader.js'
import { type CipherSuite, tls13CipherSuite } from './cipher-suites.js'
import { nextApplicationTrafficSecret, trafficKeys, type TrafficKeys } from './key-schedule.js'
import { decryptRecord, RecordProtectionError } from './record-protection.js'
import { WireError } from '../../wire/bytes.js'

export type Epoch = 'early' | 'handshake' | 'application'

export interface DecryptedRecord {
  /** Index into the direction's dissection records. */
  recordIndex: number
  offset: number
  epoch: Epoch
  /** Key generation: 0 for handshake keys and application secret 0, +1 per KeyUpdate. */
  generation: number
  sequenceNumber: bigint
  innerType: number
  /** HandshakeType of every handshake message that ends in this record. */
  handshakeTypes: number[]
  plaintext: Uint8Array
}

export interface DecryptedDirection {
  records: DecryptedRecord[]
  /** Why decryption stopped early (bad_record_mac, missing secret ...), at which record. */
  error?: { code: string; message: string; recordIndex: number }
}

export interface Tls13ConversationInput {
  dissection: ConversationDissection
  clientToServer: Uint8Array
  serverToClient: Uint8Array
  /** The key log entries for this connection's client random. */
  secrets: KeylogSecrets
  /** The cipher_suite the ServerHello chose. */
  cipherSuite: number
}

/** The key log entry for the conversation's (first) ClientHello random, if any. */
export function secretsForConversation(dissection: ConversationDissection, keylog: ReadonlyMap<string, KeylogSecrets>): KeylogSecrets | undefined {
  const ch = dissection.client.handshakes.find((h) => h.clientHello)?.clientHello
  return ch ? keylog.get(ch.random) : undefined
}

/** The cipher_suite of the ServerHello that is not a HelloRetryRequest, if the dissection saw one. */
export function negotiatedCipherSuite(dissection: ConversationDissection): number | undefined {
  return dissection.server.handshakes.find((h) => h.serverHello && !h.serverHello.helloRetryRequest)?.serverHello?.cipherSuite
}

function decryptDirection(
  suite: CipherSuite,
  dir: DirectionDissection,
  stream: Uint8Array,
  handshakeSecret: Uint8Array | undefined,
  applicationSecret: Uint8Array | undefined,
  earlySecret?: Uint8Array,
): DecryptedDirection {
  const out: DecryptedDirection = { records: [] }
  let epoch: Epoch = earlySecret ? 'early' : 'handshake'
  let secret = earlySecret ?? handshakeSecret
  let keys: TrafficKeys | undefined = secret && trafficKeys(suite, secret)
  let generation = 0
  let seq = 0n
  const handshakes = new HandshakeReader()

  for (const rec of dir.records) {
    if (!rec.encrypted || rec.type !== ContentType.applicationData) continue
    if (!keys || !secret) {
      out.error = { code: 'missing-secret', message: `no ${epoch} traffic secret in the key log`, recordIndex: rec.index }
      return out
    }
    const fragment = stream.subarray(rec.offset + 5, rec.offset + 5 + rec.length)
    const ciphertext = { type: rec.type, legacyVersion: rec.version, fragment }
    let inner
    try {
      inner = decryptRecord(suite, keys, seq, ciphertext)
    } catch (e) {
      if (!(e instanceof RecordProtectionError)) throw e
      const rejectedEarlyData = epoch === 'early' && handshakeSecret !== undefined
      const hsKeys = rejectedEarlyData ? trafficKeys(suite, handshakeSecret) : undefined
      try {
        if (!hsKeys) throw e
        inner = decryptRecord(suite, hsKeys, 0n, ciphertext)
        epoch = 'handshake'
        secret = handshakeSecret
        keys = hsKeys
        seq = 0n
      } catch (e2) {
        if (!(e2 instanceof RecordProtectionError)) throw e2
        out.error = { code: e.code, message: e.message, recordIndex: rec.index }
        return out
      }
    }
    const decrypted: DecryptedRecord = {
      recordIndex: rec.index,
      offset: rec.offset,
      epoch,
      generation,
      sequenceNumber: seq,
      innerType: inner.type,
      handshakeTypes: [],
      plaintext: inner.content.slice(),
    }
    out.records.push(decrypted)
    seq++
    if (inner.type !== ContentType.handshake) continue
    let rekey = false
    let switchTo: Uint8Array | undefined
    for (const ev of handshakes.push(inner.content, rec.index)) {
      if (ev.kind === 'error') {
        out.error = { code: ev.error.code, message: ev.error.message, recordIndex: ev.record }
        return out
      }
      decrypted.handshakeTypes.push(ev.message.msgType)
      if (ev.message.msgType === HandshakeType.endOfEarlyData && epoch === 'early') {
        epoch = 'handshake'
        rekey = true
        switchTo = handshakeSecret
      } else if (ev.message.msgType === HandshakeType.finished && epoch === 'handshake') {
        epoch = 'application'
        rekey = true
        switchTo = applicationSecret
        generation = 0
      } else if (ev.message.msgType === HandshakeType.keyUpdate && epoch === 'application' && secret) {
        rekey = true
        switchTo = nextApplicationTrafficSecret(suite, secret)
        generation++
      }
    }
    // Keys change at the record boundary after the message (RFC 8446 §5.1: no message spans a key change).
    if (rekey) {
      secret = switchTo
      keys = secret && trafficKeys(suite, secret)
      seq = 0n
    }
  }
  return out
}

export function decryptTls13Conversation(input: Tls13ConversationInput): { client: DecryptedDirection; server: DecryptedDirection } {
  let suite: CipherSuite
  try {
    suite = tls13CipherSuite(input.cipherSuite)
  } catch (e) {
    if (!(e instanceof WireError)) throw e
    const error = { code: e.code, message: e.message, recordIndex: -1 }
    return { client: { records: [], error }, server: { records: [], error } }
  }
  const s = input.secrets
  return {
    client: decryptDirection(
      suite, input.dissection.client, input.clientToServer,
      s.CLIENT_HANDSHAKE_TRAFFIC_SECRET, s.CLIENT_TRAFFIC_SECRET_0, s.CLIENT_EARLY_TRAFFIC_SECRET,
    ),
    server: decryptDirection(suite, input.dissection.server, input.serverToClient, s.SERVER_HANDSHAKE_TRAFFIC_SECRET, s.SERVER_TRAFFIC_SECRET_0),
  }
}

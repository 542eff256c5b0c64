// Dissects both directions of one TLS connection into records and plaintext handshake messages,
// the shape compared against tshark in captures/ and printed by `sultry replay`.
//
// Which records are encrypted is decided without keys, from what is visible:
//  - TLS 1.3 (the ServerHello's supported_versions selected 0x0304): every server record after that
//    ServerHello except change_cipher_spec is encrypted, and every client record of outer type
//    application_data is (client handshake records are then ClientHellos, before or after an HRR);
//  - otherwise (TLS 1.2 and older): a direction's records after its own ChangeCipherSpec are
//    encrypted, so the Finished inside a handshake record is not parsed as plaintext.
// application_data is never shown as plaintext in either case.

import { toHex, WireError } from '../bytes.js'
import { type Alert, decodeAlert } from './alert.js'
import { decodeClientHello, viewClientHello } from './client-hello.js'
import { HandshakeType } from './handshake.js'
import { type AssembledHandshake, HandshakeReader } from './handshake-reader.js'
import { ContentType } from './record.js'
import { RecordReader } from './record-reader.js'
import { decodeServerHello, viewServerHello } from './server-hello.js'

export const TLS13 = 0x0304

export interface RecordSummary {
  index: number
  /** Byte offset of the record header in the direction's stream. */
  offset: number
  type: number
  version: number
  /** The fragment length (header excluded). */
  length: number
  encrypted: boolean
  alert?: Alert
}

export interface ClientHelloSummary {
  version: number
  random: string
  sessionId: string
  cipherSuites: number[]
  compressionMethods: number[]
  extensions: { type: number; length: number }[]
  sni?: string
  alpn?: string[]
  supportedVersions?: number[]
  supportedGroups?: number[]
  keyShareGroups?: number[]
  signatureAlgorithms?: number[]
  pskModes?: number[]
  hasPreSharedKey: boolean
}

export interface ServerHelloSummary {
  version: number
  random: string
  sessionId: string
  cipherSuite: number
  compressionMethod: number
  extensions: { type: number; length: number }[]
  selectedVersion?: number
  keyShareGroup?: number
  alpn?: string
  helloRetryRequest: boolean
}

export interface HandshakeSummary {
  type: number
  /** Body length from the handshake header. */
  length: number
  firstRecord: number
  lastRecord: number
  clientHello?: ClientHelloSummary
  serverHello?: ServerHelloSummary
}

export interface DissectionError {
  code: string
  message: string
  /** Stream offset of the record where the problem is. */
  offset: number
}

export interface DirectionDissection {
  records: RecordSummary[]
  handshakes: HandshakeSummary[]
  error?: DissectionError
}

export interface ConversationDissection {
  client: DirectionDissection
  server: DirectionDissection
}

type Direction = 'client' | 'server'

interface RawRecord {
  offset: number
  type: number
  version: number
  fragment: Uint8Array
}

function frame(stream: Uint8Array): { records: RawRecord[]; error?: DissectionError } {
  const reader = new RecordReader()
  const records: RawRecord[] = []
  let error: DissectionError | undefined
  for (const ev of [...reader.push(stream), ...reader.end()]) {
    if (ev.kind === 'record') {
      records.push({ offset: ev.offset, type: ev.record.type, version: ev.record.legacyVersion, fragment: ev.record.fragment })
    } else {
      error = { code: ev.error.code, message: ev.error.message, offset: ev.offset }
    }
  }
  return error ? { records, error } : { records }
}

function summarizeHandshake(m: AssembledHandshake, dir: Direction, fail: (e: WireError) => void): HandshakeSummary {
  const s: HandshakeSummary = { type: m.msgType, length: m.body.length, firstRecord: m.firstRecord, lastRecord: m.lastRecord }
  try {
    if (m.msgType === HandshakeType.clientHello && dir === 'client') {
      const h = decodeClientHello(m.body)
      const v = viewClientHello(h, (_, e) => fail(e))
      const c: ClientHelloSummary = {
        version: h.legacyVersion,
        random: toHex(h.random),
        sessionId: toHex(h.legacySessionId),
        cipherSuites: h.cipherSuites,
        compressionMethods: h.legacyCompressionMethods,
        extensions: (h.extensions ?? []).map((e) => ({ type: e.type, length: e.data.length })),
        hasPreSharedKey: v.hasPreSharedKey,
      }
      if (v.serverName !== undefined) c.sni = v.serverName
      if (v.alpn) c.alpn = v.alpn
      if (v.supportedVersions) c.supportedVersions = v.supportedVersions
      if (v.supportedGroups) c.supportedGroups = v.supportedGroups
      if (v.keyShareGroups) c.keyShareGroups = v.keyShareGroups
      if (v.signatureAlgorithms) c.signatureAlgorithms = v.signatureAlgorithms
      if (v.pskKeyExchangeModes) c.pskModes = v.pskKeyExchangeModes
      s.clientHello = c
    } else if (m.msgType === HandshakeType.serverHello && dir === 'server') {
      const h = decodeServerHello(m.body)
      const v = viewServerHello(h, (_, e) => fail(e))
      const c: ServerHelloSummary = {
        version: h.legacyVersion,
        random: toHex(h.random),
        sessionId: toHex(h.legacySessionIdEcho),
        cipherSuite: h.cipherSuite,
        compressionMethod: h.legacyCompressionMethod,
        extensions: (h.extensions ?? []).map((e) => ({ type: e.type, length: e.data.length })),
        helloRetryRequest: v.helloRetryRequest,
      }
      if (v.selectedVersion !== undefined) c.selectedVersion = v.selectedVersion
      if (v.keyShareGroup !== undefined) c.keyShareGroup = v.keyShareGroup
      if (v.alpn !== undefined) c.alpn = v.alpn
      s.serverHello = c
    }
  } catch (e) {
    if (!(e instanceof WireError)) throw e
    fail(e)
  }
  return s
}

/**
 * Walks one direction. `tls13` is what the server's direction revealed (undefined while unknown,
 * i.e. when walking the server's own records).
 */
function dissectDirection(stream: Uint8Array, dir: Direction, tls13Known?: boolean): { result: DirectionDissection; tls13: boolean } {
  const framed = frame(stream)
  const out: DirectionDissection = { records: [], handshakes: [] }
  let error: DissectionError | undefined
  const setError = (code: string, message: string, offset: number): void => {
    error ??= { code, message, offset }
  }
  const handshakes = new HandshakeReader()
  let tls13 = tls13Known ?? false
  let afterServerHello = false
  let afterChangeCipherSpec = false

  framed.records.forEach((rec, index) => {
    let encrypted = rec.type === ContentType.applicationData
    if (tls13) {
      if (dir === 'server' && afterServerHello && rec.type !== ContentType.changeCipherSpec) encrypted = true
    } else if (afterChangeCipherSpec) {
      encrypted = true
    }
    const summary: RecordSummary = { index, offset: rec.offset, type: rec.type, version: rec.version, length: rec.fragment.length, encrypted }
    if (!encrypted && rec.type === ContentType.alert) {
      try {
        summary.alert = decodeAlert(rec.fragment)
      } catch (e) {
        if (!(e instanceof WireError)) throw e
        setError(e.code, e.message, rec.offset)
      }
    }
    out.records.push(summary)
    if (!encrypted && rec.type === ContentType.changeCipherSpec) afterChangeCipherSpec = true
    if (encrypted || rec.type !== ContentType.handshake || handshakes.failed) return
    for (const ev of handshakes.push(rec.fragment, index)) {
      if (ev.kind === 'error') {
        setError(ev.error.code, ev.error.message, framed.records[ev.record].offset)
        continue
      }
      const hs = summarizeHandshake(ev.message, dir, (e) => setError(e.code, e.message, framed.records[ev.message.firstRecord].offset))
      out.handshakes.push(hs)
      const sh = hs.serverHello
      // A HelloRetryRequest exists only in TLS 1.3, so it already settles the version (and the
      // CCS a middlebox-compatible server sends after it must not start TLS 1.2 encryption).
      if (sh && tls13Known === undefined && sh.selectedVersion === TLS13) tls13 = true
      if (sh && !sh.helloRetryRequest) afterServerHello = true
    }
  })
  if (handshakes.pending > 0 && !handshakes.failed) {
    const since = framed.records[handshakes.pendingSince]
    setError('truncated', `Handshake: message cut short (${handshakes.pending} byte(s) buffered)`, since.offset)
  }
  // A framing error ends the direction; it is the one to report, as it is what stopped us.
  if (framed.error) error = framed.error
  if (error) out.error = error
  return { result: out, tls13 }
}

export function dissectTlsConversation(clientToServer: Uint8Array, serverToClient: Uint8Array): ConversationDissection {
  const server = dissectDirection(serverToClient, 'server')
  const client = dissectDirection(clientToServer, 'client', server.tls13)
  return { client: client.result, server: server.result }
}

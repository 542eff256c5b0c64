// Handshake message framing (RFC 8446 §4, RFC 5246 §7.4): msg_type u8, length u24, body.

import { Reader, WireError, Writer } from '../bytes.js'

/** HandshakeType (RFC 8446 §4 plus the TLS 1.2 ones from RFC 5246 §7.4 and RFC 6066/8879). */
export const HandshakeType = {
  helloRequest: 0,
  clientHello: 1,
  serverHello: 2,
  newSessionTicket: 4,
  endOfEarlyData: 5,
  encryptedExtensions: 8,
  certificate: 11,
  serverKeyExchange: 12,
  certificateRequest: 13,
  serverHelloDone: 14,
  certificateVerify: 15,
  clientKeyExchange: 16,
  finished: 20,
  certificateUrl: 21,
  certificateStatus: 22,
  keyUpdate: 24,
  compressedCertificate: 25,
  messageHash: 254,
} as const

export const HANDSHAKE_HEADER_LENGTH = 4

export interface HandshakeMessage {
  msgType: number
  body: Uint8Array
}

/** Decodes one whole handshake message from the front of `buf` (a view, not a copy). */
export function decodeHandshake(buf: Uint8Array): { message: HandshakeMessage; used: number } {
  const r = new Reader(buf, 'Handshake')
  const msgType = r.u8()
  const length = r.u24()
  const body = r.bytes(length)
  return { message: { msgType, body }, used: r.offset }
}

export function encodeHandshake(m: HandshakeMessage): Uint8Array {
  if (m.body.length > 0xffffff) throw new WireError('bad-length', 'Handshake: body exceeds 2^24-1')
  return new Writer(m.body.length + HANDSHAKE_HEADER_LENGTH).u8(m.msgType).vec24((w) => w.bytes(m.body)).finish()
}

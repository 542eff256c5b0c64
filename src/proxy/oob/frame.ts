// The OOB helper protocol's frames (docs/oob-protocol.md, version 1). Pure codec: every frame is
//   type u8 | stream u32 | length u16 | payload[length]
// and each type's payload has a fixed layout. Decoding checks the length against the limit before
// looking at the payload, so a peer cannot make us wait for or hold more than one frame.

import { Reader, WireError, within, Writer } from '../../wire/bytes.js'

export const OOB_VERSION = 1
export const FRAME_HEADER_LENGTH = 7
/** The protocol's hard ceiling on a payload; a session may agree on less (never more). */
export const MAX_FRAME_PAYLOAD = 16 * 1024
export const NONCE_LENGTH = 32
export const MAC_LENGTH = 32
export const PING_OPAQUE_LENGTH = 8

export const FrameType = {
  hello: 0x01,
  auth: 0x02,
  authOk: 0x03,
  open: 0x10,
  opened: 0x11,
  data: 0x12,
  window: 0x13,
  close: 0x14,
  resolve: 0x20,
  resolved: 0x21,
  ping: 0x30,
} as const

/** CLOSE and RESOLVED reasons. `fin` is a half-close: the sender sends no more DATA. */
export const CloseReason = {
  fin: 0,
  reset: 1,
  refused: 2,
  unreachable: 3,
  notFound: 4,
  limit: 5,
  protocolError: 6,
  timeout: 7,
  authFailed: 8,
  shutdown: 9,
} as const
export type CloseReasonName = keyof typeof CloseReason
const REASON_NAMES = Object.fromEntries(Object.entries(CloseReason).map(([k, v]) => [v, k])) as Record<number, CloseReasonName>

export function closeReasonName(code: number): CloseReasonName | undefined {
  return REASON_NAMES[code]
}

export type OobFrame =
  | { type: 'hello'; version: number; serverNonce: Uint8Array }
  | { type: 'auth'; version: number; clientNonce: Uint8Array; mac: Uint8Array }
  | { type: 'auth-ok'; mac: Uint8Array }
  | { type: 'open'; stream: number; port: number; window: number; host: string }
  | { type: 'opened'; stream: number; window: number; address: string }
  | { type: 'data'; stream: number; data: Uint8Array }
  | { type: 'window'; stream: number; increment: number }
  | { type: 'close'; stream: number; reason: CloseReasonName; message: string }
  | { type: 'resolve'; stream: number; host: string }
  | { type: 'resolved'; stream: number; reason: CloseReasonName; addresses: string[] }
  | { type: 'ping'; ack: boolean; opaque: Uint8Array }

const utf8 = new TextEncoder()
const utf8d = new TextDecoder('utf-8', { fatal: true })

function text(r: Reader, what: string, min: number): string {
  const b = r.vec8().rest()
  if (b.length < min) throw new WireError('bad-length', `OOB ${what}: empty`)
  try {
    return utf8d.decode(b)
  } catch {
    throw new WireError('bad-value', `OOB ${what}: not UTF-8`)
  }
}

function putText(w: Writer, s: string, what: string, min: number): void {
  const b = utf8.encode(s)
  if (b.length < min || b.length > 255) throw new WireError('bad-length', `OOB ${what}: ${b.length} bytes (want ${min}..255)`)
  w.vec8((v) => v.bytes(b))
}

function reason(code: number): CloseReasonName {
  const n = closeReasonName(code)
  if (n === undefined) throw new WireError('bad-value', `OOB: unknown reason ${code}`)
  return n
}

function expectStream(stream: number, zero: boolean, what: string): void {
  if ((stream === 0) !== zero) throw new WireError('bad-value', `OOB ${what}: stream ${stream} ${zero ? 'must be 0' : 'must not be 0'}`)
}

function decodePayload(type: number, stream: number, p: Reader): OobFrame {
  switch (type) {
    case FrameType.hello:
      expectStream(stream, true, 'HELLO')
      return { type: 'hello', version: p.u8(), serverNonce: p.bytes(NONCE_LENGTH) }
    case FrameType.auth:
      expectStream(stream, true, 'AUTH')
      return { type: 'auth', version: p.u8(), clientNonce: p.bytes(NONCE_LENGTH), mac: p.bytes(MAC_LENGTH) }
    case FrameType.authOk:
      expectStream(stream, true, 'AUTH_OK')
      return { type: 'auth-ok', mac: p.bytes(MAC_LENGTH) }
    case FrameType.open: {
      expectStream(stream, false, 'OPEN')
      const port = p.u16()
      if (port === 0) throw new WireError('bad-value', 'OOB OPEN: port 0')
      return { type: 'open', stream, port, window: p.u32(), host: text(p, 'OPEN host', 1) }
    }
    case FrameType.opened:
      expectStream(stream, false, 'OPENED')
      return { type: 'opened', stream, window: p.u32(), address: text(p, 'OPENED address', 0) }
    case FrameType.data: {
      expectStream(stream, false, 'DATA')
      const data = p.rest()
      if (data.length === 0) throw new WireError('bad-length', 'OOB DATA: empty')
      return { type: 'data', stream, data: data.slice() }
    }
    case FrameType.window: {
      expectStream(stream, false, 'WINDOW')
      const increment = p.u32()
      if (increment === 0) throw new WireError('bad-value', 'OOB WINDOW: zero increment')
      return { type: 'window', stream, increment }
    }
    case FrameType.close:
      expectStream(stream, false, 'CLOSE')
      return { type: 'close', stream, reason: reason(p.u8()), message: text(p, 'CLOSE message', 0) }
    case FrameType.resolve:
      expectStream(stream, false, 'RESOLVE')
      return { type: 'resolve', stream, host: text(p, 'RESOLVE host', 1) }
    case FrameType.resolved: {
      expectStream(stream, false, 'RESOLVED')
      const r = reason(p.u8())
      const count = p.u8()
      const addresses: string[] = []
      for (let i = 0; i < count; i++) addresses.push(text(p, 'RESOLVED address', 1))
      return { type: 'resolved', stream, reason: r, addresses }
    }
    case FrameType.ping: {
      expectStream(stream, true, 'PING')
      const flags = p.u8()
      if (flags > 1) throw new WireError('bad-value', `OOB PING: flags ${flags}`)
      return { type: 'ping', ack: flags === 1, opaque: p.bytes(PING_OPAQUE_LENGTH) }
    }
    default:
      throw new WireError('unsupported', `OOB: frame type 0x${type.toString(16)}`)
  }
}

/**
 * Decodes one frame from the front of `buf`. `truncated` (with `needed`) while incomplete;
 * `too-large` as soon as the header announces more than `maxPayload`.
 */
export function decodeFrame(buf: Uint8Array, maxPayload = MAX_FRAME_PAYLOAD): { frame: OobFrame; used: number } {
  if (buf.length < FRAME_HEADER_LENGTH) throw WireError.truncated(FRAME_HEADER_LENGTH - buf.length, 'OOB frame header')
  const r = new Reader(buf, 'OOB frame')
  const type = r.u8()
  const stream = r.u32()
  const length = r.u16()
  if (length > maxPayload) throw new WireError('too-large', `OOB frame: payload ${length} > ${maxPayload}`)
  if (r.remaining < length) throw WireError.truncated(length - r.remaining, 'OOB frame payload')
  const payload = new Reader(r.bytes(length), 'OOB frame payload')
  const frame = within(payload, (p) => {
    const f = decodePayload(type, stream, p)
    p.expectEnd()
    return f
  })
  return { frame, used: FRAME_HEADER_LENGTH + length }
}

function checkU32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new WireError('bad-value', `OOB ${what}: ${v}`)
}

export function encodeFrame(f: OobFrame, maxPayload = MAX_FRAME_PAYLOAD): Uint8Array {
  const p = new Writer(64)
  let type: number
  let stream = 0
  switch (f.type) {
    case 'hello':
      if (f.serverNonce.length !== NONCE_LENGTH) throw new WireError('bad-length', 'OOB HELLO: nonce length')
      type = FrameType.hello
      p.u8(f.version).bytes(f.serverNonce)
      break
    case 'auth':
      if (f.clientNonce.length !== NONCE_LENGTH || f.mac.length !== MAC_LENGTH) throw new WireError('bad-length', 'OOB AUTH: nonce/mac length')
      type = FrameType.auth
      p.u8(f.version).bytes(f.clientNonce).bytes(f.mac)
      break
    case 'auth-ok':
      if (f.mac.length !== MAC_LENGTH) throw new WireError('bad-length', 'OOB AUTH_OK: mac length')
      type = FrameType.authOk
      p.bytes(f.mac)
      break
    case 'open':
      type = FrameType.open
      stream = f.stream
      if (f.port === 0) throw new WireError('bad-value', 'OOB OPEN: port 0')
      checkU32(f.window, 'OPEN window')
      p.u16(f.port).u32(f.window)
      putText(p, f.host, 'OPEN host', 1)
      break
    case 'opened':
      type = FrameType.opened
      stream = f.stream
      checkU32(f.window, 'OPENED window')
      p.u32(f.window)
      putText(p, f.address, 'OPENED address', 0)
      break
    case 'data':
      type = FrameType.data
      stream = f.stream
      if (f.data.length === 0) throw new WireError('bad-length', 'OOB DATA: empty')
      p.bytes(f.data)
      break
    case 'window':
      type = FrameType.window
      stream = f.stream
      checkU32(f.increment, 'WINDOW increment')
      if (f.increment === 0) throw new WireError('bad-value', 'OOB WINDOW: zero increment')
      p.u32(f.increment)
      break
    case 'close':
      type = FrameType.close
      stream = f.stream
      p.u8(CloseReason[f.reason])
      putText(p, f.message, 'CLOSE message', 0)
      break
    case 'resolve':
      type = FrameType.resolve
      stream = f.stream
      putText(p, f.host, 'RESOLVE host', 1)
      break
    case 'resolved':
      type = FrameType.resolved
      stream = f.stream
      if (f.addresses.length > 255) throw new WireError('bad-length', 'OOB RESOLVED: more than 255 addresses')
      p.u8(CloseReason[f.reason]).u8(f.addresses.length)
      for (const a of f.addresses) putText(p, a, 'RESOLVED address', 1)
      break
    case 'ping':
      if (f.opaque.length !== PING_OPAQUE_LENGTH) throw new WireError('bad-length', 'OOB PING: opaque length')
      type = FrameType.ping
      p.u8(f.ack ? 1 : 0).bytes(f.opaque)
      break
  }
  const payload = p.finish()
  if (f.type !== 'hello' && f.type !== 'auth' && f.type !== 'auth-ok' && f.type !== 'ping') expectStream(stream, false, f.type)
  checkU32(stream, 'stream')
  if (payload.length > maxPayload) throw new WireError('too-large', `OOB frame: payload ${payload.length} > ${maxPayload}`)
  return new Writer(FRAME_HEADER_LENGTH + payload.length).u8(type).u32(stream).u16(payload.length).bytes(payload).finish()
}

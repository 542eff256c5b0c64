// SOCKS4 (Ying-Da Lee, "SOCKS: A protocol for TCP proxy across firewalls") and the SOCKS4a
// extension: VN CD DSTPORT DSTIP USERID NUL, where DSTIP 0.0.0.x (x ≠ 0) means a domain name
// follows the USERID's NUL, itself NUL-terminated. Reply: VN(0) CD DSTPORT DSTIP.

import { Reader, WireError, Writer } from '../bytes.js'
import { domainFromOctets, domainToOctets, ipv4FromText, ipv4ToText } from './address.js'
import { octetsToString, stringToOctets } from './userpass.js'

export const SOCKS4_VERSION = 4
// Tor accepts its RESOLVE and RESOLVE_PTR in SOCKS4 too (tor src/trunnel/socks5.trunnel, socks4_client_request).
export const Socks4Command = { connect: 1, bind: 2, resolve: 0xf0, resolvePtr: 0xf1 } as const

/** CD values of a reply (90–93). */
export const Socks4ReplyCode = {
  granted: 90,
  rejectedOrFailed: 91,
  identdUnreachable: 92, // "cannot connect to identd on the client"
  identdMismatch: 93, // "the client program and identd report different user-ids"
} as const
export type Socks4ReplyName = keyof typeof Socks4ReplyCode

export interface Socks4Request {
  vn: number
  cd: number
  dstPort: number
  /** Dotted quad; 0.0.0.x (x ≠ 0) when `domain` is present (SOCKS4a). */
  dstIp: string
  userId: string
  domain?: string
}

export interface Socks4Reply {
  vn: number
  cd: number
  dstPort: number
  dstIp: string
}

/** Neither spec bounds USERID or the domain; we cap each at 255 octets (SOCKS5's own limit). */
export const MAX_SOCKS4_STRING = 255
export const MAX_SOCKS4_REQUEST_BYTES = 8 + (MAX_SOCKS4_STRING + 1) * 2

export function isSocks4aDstIp(ip: Uint8Array): boolean {
  return ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0
}

export function decodeSocks4Request(buf: Uint8Array): { request: Socks4Request; used: number } {
  const r = new Reader(buf, 'SOCKS4 request')
  const vn = r.u8()
  if (vn !== SOCKS4_VERSION) throw new WireError('unsupported', `SOCKS4 request: VN ${vn}`)
  const cd = r.u8()
  const dstPort = r.u16()
  const ip = r.bytes(4)
  const userId = octetsToString(readNulTerminated(r, 'USERID'))
  const request: Socks4Request = { vn, cd, dstPort, dstIp: ipv4ToText(ip), userId }
  if (isSocks4aDstIp(ip)) request.domain = domainFromOctets(readNulTerminated(r, 'SOCKS4a domain'), r.what)
  return { request, used: r.offset }
}

export function encodeSocks4Request(q: Socks4Request): Uint8Array {
  const ip = ipv4FromText(q.dstIp)
  if ((q.domain !== undefined) !== isSocks4aDstIp(ip)) {
    throw new WireError('bad-value', 'SOCKS4a: a domain goes with DSTIP 0.0.0.x (x ≠ 0), and only then')
  }
  const w = new Writer(MAX_SOCKS4_REQUEST_BYTES).u8(q.vn).u8(q.cd).u16(q.dstPort).bytes(ip)
  writeNulTerminated(w, stringToOctets(q.userId), 'USERID')
  if (q.domain !== undefined) writeNulTerminated(w, domainToOctets(q.domain), 'SOCKS4a domain')
  return w.finish()
}

export function decodeSocks4Reply(buf: Uint8Array): { reply: Socks4Reply; used: number } {
  const r = new Reader(buf, 'SOCKS4 reply')
  const vn = r.u8()
  if (vn !== 0) throw new WireError('bad-value', `SOCKS4 reply: VN ${vn} (must be 0)`)
  const cd = r.u8()
  const dstPort = r.u16()
  return { reply: { vn, cd, dstPort, dstIp: ipv4ToText(r.bytes(4)) }, used: r.offset }
}

export function encodeSocks4Reply(p: Socks4Reply): Uint8Array {
  return new Writer(8).u8(p.vn).u8(p.cd).u16(p.dstPort).bytes(ipv4FromText(p.dstIp)).finish()
}

/**
 * Where the NUL ending a string at `from` is: its index, 'wait' if it may still come, or
 * 'too-large' past the cap — without a length field only a cap bounds the wait.
 */
function findNul(buf: Uint8Array, from: number): number | 'wait' | 'too-large' {
  const limit = Math.min(buf.length, from + MAX_SOCKS4_STRING + 1)
  for (let i = from; i < limit; i++) if (buf[i] === 0) return i
  return buf.length - from > MAX_SOCKS4_STRING ? 'too-large' : 'wait'
}

/**
 * True when decodeSocks4Request would only say `truncated`: lets a streaming caller skip
 * re-parsing (and an exception) on every byte a trickling peer sends.
 */
export function socks4RequestIncomplete(buf: Uint8Array): boolean {
  if (buf.length < 8) return true
  const user = findNul(buf, 8)
  if (user === 'wait') return true
  if (user === 'too-large' || !isSocks4aDstIp(buf.subarray(4, 8))) return false
  return findNul(buf, user + 1) === 'wait'
}

function readNulTerminated(r: Reader, field: string): Uint8Array {
  const at = findNul(r.buf, r.offset)
  if (at === 'too-large') throw new WireError('too-large', `${r.what}: ${field} longer than ${MAX_SOCKS4_STRING} octets`)
  if (at === 'wait') throw WireError.truncated(1, `${r.what}: ${field}`)
  const s = r.bytes(at - r.offset)
  r.skip(1)
  return s
}

function writeNulTerminated(w: Writer, s: Uint8Array, field: string): void {
  if (s.length > MAX_SOCKS4_STRING || s.includes(0)) {
    throw new WireError('bad-value', `SOCKS4 ${field}: ${s.length} octets or an embedded NUL`)
  }
  w.bytes(s).u8(0)
}

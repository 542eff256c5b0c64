// RFC 1929 username/password sub-negotiation: VER(1) ULEN UNAME PLEN PASSWD, answered by
// VER(1) STATUS (0 = success; anything else = failure, and the server closes).
// UNAME and PASSWD are octet strings; Tor uses them as a stream-isolation key, not a secret, so
// they are exposed as byte-per-character (latin1) strings: any octets round-trip unchanged.

import { Reader, WireError, Writer } from '../bytes.js'

export const USERPASS_VERSION = 1
export const UserPassStatus = { success: 0x00, failure: 0x01 } as const

export interface UserPassRequest {
  ver: number
  uname: string
  passwd: string
}

export interface UserPassResponse {
  ver: number
  status: number
}

export const MAX_USERPASS_REQUEST_BYTES = 3 + 255 + 255

export function decodeUserPassRequest(buf: Uint8Array): { request: UserPassRequest; used: number } {
  const r = new Reader(buf, 'RFC 1929 request')
  const ver = r.u8()
  if (ver !== USERPASS_VERSION) throw new WireError('unsupported', `RFC 1929 request: VER ${ver}`)
  const uname = octetsToString(r.bytes(r.u8()))
  const passwd = octetsToString(r.bytes(r.u8()))
  return { request: { ver, uname, passwd }, used: r.offset }
}

export function encodeUserPassRequest(q: UserPassRequest): Uint8Array {
  const w = new Writer(3 + q.uname.length + q.passwd.length).u8(q.ver)
  w.vec8((v) => v.bytes(stringToOctets(q.uname)))
  w.vec8((v) => v.bytes(stringToOctets(q.passwd)))
  return w.finish()
}

export function decodeUserPassResponse(buf: Uint8Array): { response: UserPassResponse; used: number } {
  const r = new Reader(buf, 'RFC 1929 response')
  const ver = r.u8()
  if (ver !== USERPASS_VERSION) throw new WireError('unsupported', `RFC 1929 response: VER ${ver}`)
  return { response: { ver, status: r.u8() }, used: 2 }
}

export function encodeUserPassResponse(p: UserPassResponse): Uint8Array {
  return new Writer(2).u8(p.ver).u8(p.status).finish()
}

export function octetsToString(b: Uint8Array): string {
  let s = ''
  for (const c of b) s += String.fromCharCode(c)
  return s
}

export function stringToOctets(s: string): Uint8Array {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0xff) throw new WireError('bad-value', `character U+${c.toString(16)} is not one octet`)
    out[i] = c
  }
  return out
}

// SOCKS5 method negotiation (RFC 1928 §3): the client greeting VER NMETHODS METHODS and the
// server's METHOD selection message VER METHOD.

import { Reader, WireError, Writer } from '../bytes.js'

export const SOCKS5_VERSION = 5

/** Method numbers from RFC 1928 §3 (0x02 is defined by RFC 1929). */
export const Method = {
  noAuthenticationRequired: 0x00,
  gssapi: 0x01,
  usernamePassword: 0x02,
  noAcceptableMethods: 0xff,
} as const

export interface ClientGreeting {
  ver: number
  /** NMETHODS is methods.length (1..255). */
  methods: number[]
}

export interface MethodSelection {
  ver: number
  method: number
}

export const MAX_CLIENT_GREETING_BYTES = 2 + 255

export function decodeClientGreeting(buf: Uint8Array): { greeting: ClientGreeting; used: number } {
  const r = new Reader(buf, 'SOCKS5 client greeting')
  const ver = r.u8()
  if (ver !== SOCKS5_VERSION) throw new WireError('unsupported', `SOCKS5 client greeting: VER ${ver}`)
  const nmethods = r.u8()
  if (nmethods === 0) throw new WireError('bad-value', 'SOCKS5 client greeting: NMETHODS is 0')
  const methods = [...r.bytes(nmethods)]
  return { greeting: { ver, methods }, used: r.offset }
}

export function encodeClientGreeting(g: ClientGreeting): Uint8Array {
  if (g.methods.length < 1 || g.methods.length > 255) {
    throw new WireError('bad-length', `SOCKS5 client greeting: ${g.methods.length} methods`)
  }
  const w = new Writer(2 + g.methods.length).u8(g.ver).u8(g.methods.length)
  for (const m of g.methods) w.u8(m)
  return w.finish()
}

export function decodeMethodSelection(buf: Uint8Array): { selection: MethodSelection; used: number } {
  const r = new Reader(buf, 'SOCKS5 method selection')
  const ver = r.u8()
  if (ver !== SOCKS5_VERSION) throw new WireError('unsupported', `SOCKS5 method selection: VER ${ver}`)
  return { selection: { ver, method: r.u8() }, used: 2 }
}

export function encodeMethodSelection(s: MethodSelection): Uint8Array {
  return new Writer(2).u8(s.ver).u8(s.method).finish()
}

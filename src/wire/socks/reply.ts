// SOCKS5 reply (RFC 1928 §6): VER REP RSV ATYP BND.ADDR BND.PORT.

import { Reader, WireError, Writer } from '../bytes.js'
import { SOCKS5_VERSION } from './greeting.js'
import { MAX_ADDRESS_BYTES, readAddress, writeAddress } from './address.js'

/** REP values, RFC 1928 §6. */
export const Socks5ReplyCode = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02, // "connection not allowed by ruleset"
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const
export type Socks5ReplyName = keyof typeof Socks5ReplyCode

export interface Socks5Reply {
  ver: number
  rep: number
  rsv: number
  atyp: number
  bndAddr: string
  bndPort: number
}

export const MAX_SOCKS5_REPLY_BYTES = 4 + MAX_ADDRESS_BYTES + 2

export function decodeSocks5Reply(buf: Uint8Array): { reply: Socks5Reply; used: number } {
  const r = new Reader(buf, 'SOCKS5 reply')
  const ver = r.u8()
  if (ver !== SOCKS5_VERSION) throw new WireError('unsupported', `SOCKS5 reply: VER ${ver}`)
  const rep = r.u8()
  const rsv = r.u8()
  const atyp = r.u8()
  const bndAddr = readAddress(r, atyp)
  const bndPort = r.u16()
  return { reply: { ver, rep, rsv, atyp, bndAddr, bndPort }, used: r.offset }
}

export function encodeSocks5Reply(p: Socks5Reply): Uint8Array {
  const w = new Writer(MAX_SOCKS5_REPLY_BYTES).u8(p.ver).u8(p.rep).u8(p.rsv).u8(p.atyp)
  writeAddress(w, p.atyp, p.bndAddr)
  return w.u16(p.bndPort).finish()
}

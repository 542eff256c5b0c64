// SOCKS5 request (RFC 1928 §4): VER CMD RSV ATYP DST.ADDR DST.PORT, plus Tor's RESOLVE (0xF0) and
// RESOLVE_PTR (0xF1) commands (tor-spec socks-extensions.txt §2).

import { Reader, WireError, Writer } from '../bytes.js'
import { SOCKS5_VERSION } from './greeting.js'
import { MAX_ADDRESS_BYTES, readAddress, writeAddress } from './address.js'

export const Command = {
  connect: 0x01,
  bind: 0x02,
  udpAssociate: 0x03,
  resolve: 0xf0,
  resolvePtr: 0xf1,
} as const

export interface Socks5Request {
  ver: number
  /** Kept as a number: an unknown CMD is well-formed and earns reply 07, not a parse error. */
  cmd: number
  rsv: number
  atyp: number
  dstAddr: string
  dstPort: number
}

export const MAX_SOCKS5_REQUEST_BYTES = 4 + MAX_ADDRESS_BYTES + 2

export function decodeSocks5Request(buf: Uint8Array): { request: Socks5Request; used: number } {
  const r = new Reader(buf, 'SOCKS5 request')
  const ver = r.u8()
  if (ver !== SOCKS5_VERSION) throw new WireError('unsupported', `SOCKS5 request: VER ${ver}`)
  const cmd = r.u8()
  const rsv = r.u8()
  const atyp = r.u8()
  const dstAddr = readAddress(r, atyp)
  const dstPort = r.u16()
  return { request: { ver, cmd, rsv, atyp, dstAddr, dstPort }, used: r.offset }
}

export function encodeSocks5Request(q: Socks5Request): Uint8Array {
  const w = new Writer(MAX_SOCKS5_REQUEST_BYTES).u8(q.ver).u8(q.cmd).u8(q.rsv).u8(q.atyp)
  writeAddress(w, q.atyp, q.dstAddr)
  return w.u16(q.dstPort).finish()
}

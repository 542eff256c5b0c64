// Relay messages: the Data of a relay cell, by relay command (tor-spec §6 "Stream management",
// §5.1.2 EXTEND2, §6.4 RESOLVE; relay-cells.html, opening-streams.html, closing-streams.html,
// remote-hostname-lookup.html). A body here is exactly the relay cell's Length bytes.

import { Reader, WireError, Writer, within } from '../bytes.js'
import { DIGEST_LEN, RELAY_DATA_MAX, decodeRelayCell, encodeRelayCell } from './relay-cell.js'

/** Relay commands (tor-spec §6.1). */
export const RelayCmd = {
  BEGIN: 1,
  DATA: 2,
  END: 3,
  CONNECTED: 4,
  SENDME: 5,
  EXTEND: 6,
  EXTENDED: 7,
  TRUNCATE: 8,
  TRUNCATED: 9,
  DROP: 10,
  RESOLVE: 11,
  RESOLVED: 12,
  BEGIN_DIR: 13,
  EXTEND2: 14,
  EXTENDED2: 15,
} as const

/** RELAY_END reasons (tor-spec §6.3). */
export const EndReason = {
  MISC: 1,
  RESOLVEFAILED: 2,
  CONNECTREFUSED: 3,
  EXITPOLICY: 4,
  DESTROY: 5,
  DONE: 6,
  TIMEOUT: 7,
  NOROUTE: 8,
  HIBERNATING: 9,
  INTERNAL: 10,
  RESOURCELIMIT: 11,
  CONNRESET: 12,
  TORPROTOCOL: 13,
  NOTDIRECTORY: 14,
} as const

export function endReasonName(reason: number): string {
  for (const [name, v] of Object.entries(EndReason)) if (v === reason) return name
  return `UNKNOWN(${reason})`
}

/** BEGIN flags (tor-spec §6.2): bit 1 IPv6 okay, bit 2 IPv4 not okay, bit 3 IPv6 preferred. */
export const BeginFlag = { IPV6_OK: 1, IPV4_NOT_OK: 2, IPV6_PREFERRED: 4 } as const

/** RESOLVED answer types (tor-spec §6.4). */
export const ResolvedType = { HOSTNAME: 0x00, IPV4: 0x04, IPV6: 0x06, ERROR_TRANSIENT: 0xf0, ERROR_NONTRANSIENT: 0xf1 } as const

export interface ResolvedAnswer {
  type: number
  /** IPv4: 4 bytes; IPv6: 16; hostname: its bytes; errors: usually empty. */
  value: Uint8Array
  ttl: number
}

/** EXTEND2 link specifiers (tor-spec §5.1.2): LSTYPE 00 IPv4, 01 IPv6, 02 legacy RSA id, 03 Ed25519 id. */
export type LinkSpecifier =
  | { lstype: 0; address: Uint8Array; port: number }
  | { lstype: 1; address: Uint8Array; port: number }
  | { lstype: 2; rsaId: Uint8Array }
  | { lstype: 3; ed25519Id: Uint8Array }
  | { lstype: 'unrecognized'; type: number; lspec: Uint8Array }

export type RelayMsg =
  | { cmd: 'BEGIN'; address: string; port: number; flags: number }
  | { cmd: 'DATA'; data: Uint8Array }
  | { cmd: 'END'; reason: number; address?: Uint8Array; ttl?: number }
  | { cmd: 'CONNECTED'; address?: Uint8Array; ttl?: number }
  | { cmd: 'SENDME'; version: 0 }
  | { cmd: 'SENDME'; version: 1; digest: Uint8Array }
  | { cmd: 'EXTEND2'; linkSpecifiers: LinkSpecifier[]; handshakeType: number; handshakeData: Uint8Array }
  | { cmd: 'EXTENDED2'; handshakeData: Uint8Array }
  | { cmd: 'TRUNCATE' }
  | { cmd: 'TRUNCATED'; reason: number }
  | { cmd: 'RESOLVE'; hostname: string }
  | { cmd: 'RESOLVED'; answers: ResolvedAnswer[] }
  | { cmd: 'BEGIN_DIR' }
  | { cmd: 'DROP' }
  /** Any other relay command: kept as bytes so callers can ignore or reject it. */
  | { cmd: 'unrecognized'; relayCommand: number; body: Uint8Array }

/** SENDME v1 authenticates with the 20-byte running digest (tor-spec §7.3.1). */
export const SENDME_DIGEST_LEN = 20

/** Decodes the Data of a relay cell. Throws only WireError. */
export function decodeRelayMsg(relayCommand: number, body: Uint8Array): RelayMsg {
  if (body.length > RELAY_DATA_MAX) throw new WireError('bad-length', `relay message of ${body.length} > ${RELAY_DATA_MAX}`)
  return within(new Reader(body, `relay message ${relayCommand}`), (r) => decodeBody(relayCommand, r))
}

function decodeBody(relayCommand: number, r: Reader): RelayMsg {
  switch (relayCommand) {
    case RelayCmd.BEGIN: {
      const { address, port } = parseAddrPort(nulTerminated(r))
      // FLAGS is optional (older clients omit it); anything after it is ignored as tor does.
      const flags = r.remaining >= 4 ? r.u32() : 0
      r.rest()
      return { cmd: 'BEGIN', address, port, flags }
    }
    case RelayCmd.DATA:
      return { cmd: 'DATA', data: r.rest() }
    case RelayCmd.END: {
      // An empty END means MISC (tor-spec §6.3).
      if (r.remaining === 0) return { cmd: 'END', reason: EndReason.MISC }
      const reason = r.u8()
      if (reason !== EndReason.EXITPOLICY) {
        r.rest()
        return { cmd: 'END', reason }
      }
      switch (r.remaining) {
        case 0:
          return { cmd: 'END', reason }
        case 4:
        case 16:
          // No TTL given: treat as "no limit" (0xffffffff), as arti does.
          return { cmd: 'END', reason, address: r.rest(), ttl: 0xffffffff }
        case 8:
        case 20: {
          const address = r.bytes(r.remaining - 4)
          return { cmd: 'END', reason, address, ttl: r.u32() }
        }
        default:
          throw new WireError('bad-length', `END EXITPOLICY with ${r.remaining} bytes of address`)
      }
    }
    case RelayCmd.CONNECTED: {
      if (r.remaining === 0) return { cmd: 'CONNECTED' }
      const ipv4 = r.bytes(4)
      if (ipv4.some((b) => b !== 0)) return { cmd: 'CONNECTED', address: ipv4, ttl: r.u32() }
      const atype = r.u8()
      if (atype !== 6) throw new WireError('bad-value', `CONNECTED address type ${atype}`)
      const address = r.bytes(16)
      return { cmd: 'CONNECTED', address, ttl: r.u32() }
    }
    case RelayCmd.SENDME: {
      if (r.remaining === 0) return { cmd: 'SENDME', version: 0 }
      const version = r.u8()
      const data = r.vec16()
      if (version === 0) {
        data.rest()
        return { cmd: 'SENDME', version: 0 }
      }
      if (version !== 1) throw new WireError('unsupported', `SENDME version ${version}`)
      // "truncate longer": a v1 digest longer than 20 bytes only uses its first 20.
      const digest = data.bytes(SENDME_DIGEST_LEN)
      data.rest()
      return { cmd: 'SENDME', version: 1, digest }
    }
    case RelayCmd.EXTEND2: {
      const n = r.u8()
      const linkSpecifiers: LinkSpecifier[] = []
      for (let i = 0; i < n; i++) linkSpecifiers.push(linkSpecifier(r))
      const handshakeType = r.u16()
      const handshakeData = r.vec16().rest()
      return { cmd: 'EXTEND2', linkSpecifiers, handshakeType, handshakeData }
    }
    case RelayCmd.EXTENDED2:
      return { cmd: 'EXTENDED2', handshakeData: r.vec16().rest() }
    case RelayCmd.TRUNCATE:
      r.rest()
      return { cmd: 'TRUNCATE' }
    case RelayCmd.TRUNCATED: {
      const reason = r.u8()
      r.rest()
      return { cmd: 'TRUNCATED', reason }
    }
    case RelayCmd.RESOLVE:
      return { cmd: 'RESOLVE', hostname: ascii(nulTerminated(r)) }
    case RelayCmd.RESOLVED: {
      const answers: ResolvedAnswer[] = []
      while (r.remaining > 0) {
        const type = r.u8()
        const value = r.vec8().rest()
        if ((type === ResolvedType.IPV4 && value.length !== 4) || (type === ResolvedType.IPV6 && value.length !== 16)) {
          throw new WireError('bad-length', `RESOLVED answer type ${type} with ${value.length} bytes`)
        }
        answers.push({ type, value, ttl: r.u32() })
      }
      return { cmd: 'RESOLVED', answers }
    }
    case RelayCmd.BEGIN_DIR:
      r.rest()
      return { cmd: 'BEGIN_DIR' }
    case RelayCmd.DROP:
      r.rest()
      return { cmd: 'DROP' }
    default:
      return { cmd: 'unrecognized', relayCommand, body: r.rest() }
  }
}

const LSPEC_LEN: Record<number, number> = { 0: 6, 1: 18, 2: 20, 3: 32 }

function linkSpecifier(r: Reader): LinkSpecifier {
  const type = r.u8()
  const lspec = r.vec8()
  const want = LSPEC_LEN[type]
  if (want === undefined) return { lstype: 'unrecognized', type, lspec: lspec.rest() }
  if (lspec.remaining !== want) throw new WireError('bad-length', `link specifier ${type} of ${lspec.remaining} bytes, want ${want}`)
  switch (type) {
    case 0:
      return { lstype: 0, address: lspec.bytes(4), port: lspec.u16() }
    case 1:
      return { lstype: 1, address: lspec.bytes(16), port: lspec.u16() }
    case 2:
      return { lstype: 2, rsaId: lspec.bytes(20) }
    default:
      return { lstype: 3, ed25519Id: lspec.bytes(32) }
  }
}

function nulTerminated(r: Reader): Uint8Array {
  const rest = r.buf.subarray(r.offset)
  const nul = rest.indexOf(0)
  if (nul < 0) throw new WireError('bad-value', `${r.what}: string without its NUL terminator`)
  const s = r.bytes(nul)
  r.u8()
  return s
}

/** Printable ASCII only: tor's addresses are hostnames or IP literals. */
function ascii(b: Uint8Array): string {
  for (const c of b) if (c < 0x21 || c > 0x7e) throw new WireError('bad-value', 'address is not printable ASCII')
  return String.fromCharCode(...b)
}

function parseAddrPort(raw: Uint8Array): { address: string; port: number } {
  const s = ascii(raw)
  const colon = s.lastIndexOf(':')
  if (colon < 0) throw new WireError('bad-value', 'BEGIN target has no port')
  let address = s.slice(0, colon)
  const portText = s.slice(colon + 1)
  if (!/^[0-9]{1,5}$/.test(portText)) throw new WireError('bad-value', 'BEGIN port is not a number')
  const port = Number(portText)
  if (port > 0xffff) throw new WireError('bad-value', `BEGIN port ${port}`)
  if (address.startsWith('[')) {
    if (!address.endsWith(']') || address.length < 3) throw new WireError('bad-value', 'BEGIN IPv6 address without its brackets')
    address = address.slice(1, -1)
    if (/[[\]]/.test(address)) throw new WireError('bad-value', 'BEGIN address has stray brackets')
  } else if (address.length === 0 || /[:[\]]/.test(address)) {
    throw new WireError('bad-value', 'BEGIN address is empty or an unbracketed IPv6 literal')
  }
  return { address, port }
}

export const RELAY_COMMAND_OF: Record<Exclude<RelayMsg['cmd'], 'unrecognized'>, number> = {
  BEGIN: RelayCmd.BEGIN,
  DATA: RelayCmd.DATA,
  END: RelayCmd.END,
  CONNECTED: RelayCmd.CONNECTED,
  SENDME: RelayCmd.SENDME,
  EXTEND2: RelayCmd.EXTEND2,
  EXTENDED2: RelayCmd.EXTENDED2,
  TRUNCATE: RelayCmd.TRUNCATE,
  TRUNCATED: RelayCmd.TRUNCATED,
  RESOLVE: RelayCmd.RESOLVE,
  RESOLVED: RelayCmd.RESOLVED,
  BEGIN_DIR: RelayCmd.BEGIN_DIR,
  DROP: RelayCmd.DROP,
}

export function relayMsgCommand(msg: RelayMsg): number {
  return msg.cmd === 'unrecognized' ? msg.relayCommand : RELAY_COMMAND_OF[msg.cmd]
}

/** Encodes a relay message's Data (canonical form). Throws WireError if it cannot be carried. */
export function encodeRelayMsg(msg: RelayMsg): Uint8Array {
  const w = new Writer()
  switch (msg.cmd) {
    case 'BEGIN': {
      const host = msg.address.includes(':') ? `[${msg.address}]` : msg.address
      w.bytes(asciiBytes(`${host}:${msg.port}`)).u8(0)
      if (!Number.isInteger(msg.port) || msg.port < 0 || msg.port > 0xffff) throw new WireError('bad-value', `BEGIN port ${msg.port}`)
      if (msg.flags !== 0) w.u32(msg.flags)
      break
    }
    case 'DATA':
      w.bytes(msg.data)
      break
    case 'END':
      w.u8(msg.reason)
      if (msg.address !== undefined) {
        if (msg.reason !== EndReason.EXITPOLICY) throw new WireError('bad-value', 'only END EXITPOLICY carries an address')
        if (msg.address.length !== 4 && msg.address.length !== 16) throw new WireError('bad-length', 'END address must be 4 or 16 bytes')
        w.bytes(msg.address).u32(msg.ttl ?? 0xffffffff)
      }
      break
    case 'CONNECTED':
      if (msg.address !== undefined) {
        if (msg.address.length === 4) {
          if (msg.address.every((b) => b === 0)) throw new WireError('bad-value', 'CONNECTED cannot carry IPv4 0.0.0.0')
          w.bytes(msg.address)
        } else if (msg.address.length === 16) w.u32(0).u8(6).bytes(msg.address)
        else throw new WireError('bad-length', 'CONNECTED address must be 4 or 16 bytes')
        w.u32(msg.ttl ?? 0)
      }
      break
    case 'SENDME':
      if (msg.version === 1) {
        if (msg.digest.length !== SENDME_DIGEST_LEN) throw new WireError('bad-length', 'SENDME v1 digest must be 20 bytes')
        w.u8(1).vec16((w) => w.bytes(msg.digest))
      }
      break
    case 'EXTEND2':
      w.u8(msg.linkSpecifiers.length)
      for (const ls of msg.linkSpecifiers) writeLinkSpecifier(w, ls)
      w.u16(msg.handshakeType).vec16((w) => w.bytes(msg.handshakeData))
      break
    case 'EXTENDED2':
      w.vec16((w) => w.bytes(msg.handshakeData))
      break
    case 'TRUNCATED':
      w.u8(msg.reason)
      break
    case 'RESOLVE':
      w.bytes(asciiBytes(msg.hostname)).u8(0)
      break
    case 'RESOLVED':
      for (const a of msg.answers) {
        if ((a.type === ResolvedType.IPV4 && a.value.length !== 4) || (a.type === ResolvedType.IPV6 && a.value.length !== 16)) {
          throw new WireError('bad-length', `RESOLVED answer type ${a.type} with ${a.value.length} bytes`)
        }
        w.u8(a.type).vec8((w) => w.bytes(a.value)).u32(a.ttl)
      }
      break
    case 'TRUNCATE':
    case 'BEGIN_DIR':
    case 'DROP':
      break
    case 'unrecognized':
      w.bytes(msg.body)
      break
  }
  const out = w.finish()
  if (out.length > RELAY_DATA_MAX) throw new WireError('bad-length', `${msg.cmd} of ${out.length} bytes > ${RELAY_DATA_MAX}`)
  return out
}

function writeLinkSpecifier(w: Writer, ls: LinkSpecifier): void {
  const fixed = (type: number, parts: (w: Writer) => void) => {
    w.u8(type).vec8(parts)
  }
  switch (ls.lstype) {
    case 0:
      if (ls.address.length !== 4) throw new WireError('bad-length', 'IPv4 link specifier needs 4 bytes')
      return fixed(0, (w) => w.bytes(ls.address).u16(ls.port))
    case 1:
      if (ls.address.length !== 16) throw new WireError('bad-length', 'IPv6 link specifier needs 16 bytes')
      return fixed(1, (w) => w.bytes(ls.address).u16(ls.port))
    case 2:
      if (ls.rsaId.length !== 20) throw new WireError('bad-length', 'legacy id link specifier needs 20 bytes')
      return fixed(2, (w) => w.bytes(ls.rsaId))
    case 3:
      if (ls.ed25519Id.length !== 32) throw new WireError('bad-length', 'Ed25519 id link specifier needs 32 bytes')
      return fixed(3, (w) => w.bytes(ls.ed25519Id))
    case 'unrecognized':
      if (LSPEC_LEN[ls.type] !== undefined) throw new WireError('bad-value', `link specifier type ${ls.type} is not unrecognized`)
      return fixed(ls.type, (w) => w.bytes(ls.lspec))
  }
}

function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x21 || c > 0x7e) throw new WireError('bad-value', 'address is not printable ASCII')
    out[i] = c
  }
  return out
}

/**
 * A whole plaintext relay body (509 bytes) for a message on a stream (0 = circuit-level): Recognized
 * and Digest are zero, ready for the relay crypto layer to seal.
 */
export function encodeRelayMsgCell(msg: RelayMsg, streamId: number, randomPadding?: Uint8Array): Uint8Array {
  return encodeRelayCell(
    { relayCommand: relayMsgCommand(msg), recognized: 0, streamId, digest: new Uint8Array(DIGEST_LEN), data: encodeRelayMsg(msg) },
    randomPadding,
  )
}

/** The message and stream of a recognised (decrypted) relay body. */
export function decodeRelayMsgCell(body: Uint8Array): { streamId: number; msg: RelayMsg } {
  const cell = decodeRelayCell(body)
  return { streamId: cell.streamId, msg: decodeRelayMsg(cell.relayCommand, cell.data) }
}

// Channel messages: what the body of each channel cell means (tor-spec §4 "channel handshake",
// §5 "circuit management"). Fixed-length bodies are zero-padded to 509 bytes, so their decoders
// read from the front and ignore what follows; variable-length bodies must be consumed exactly.

import { Reader, WireError, Writer, within } from '../bytes.js'
import { CELL_BODY_LEN, ChanCmd, isVariableLength, type ChannelCell } from './cell.js'

/** DESTROY / TRUNCATED reasons (tor-spec §5.4). */
export const DestroyReason = {
  NONE: 0,
  PROTOCOL: 1,
  INTERNAL: 2,
  REQUESTED: 3,
  HIBERNATING: 4,
  RESOURCELIMIT: 5,
  CONNECTFAILED: 6,
  OR_IDENTITY: 7,
  CHANNEL_CLOSED: 8,
  FINISHED: 9,
  TIMEOUT: 10,
  DESTROYED: 11,
  NOSUCHSERVICE: 12,
} as const

export function destroyReasonName(reason: number): string {
  for (const [name, v] of Object.entries(DestroyReason)) if (v === reason) return name
  return `UNKNOWN(${reason})`
}

/** NETINFO address types (tor-spec §4.5): 4 = IPv4 (4 bytes), 6 = IPv6 (16 bytes). */
export const NetinfoAddrType = { IPV4: 4, IPV6: 6 } as const

/** A NETINFO address kept as sent: unknown types and odd lengths are the receiver's to ignore. */
export interface NetinfoAddress {
  type: number
  value: Uint8Array
}

/** One CERTS entry (tor-spec §4.2); the body's format depends on CertType. */
export interface CertEntry {
  certType: number
  body: Uint8Array
}

export type ChanMsg =
  | { cmd: 'PADDING' }
  | { cmd: 'VPADDING'; body: Uint8Array }
  | { cmd: 'VERSIONS'; versions: number[] }
  | { cmd: 'NETINFO'; timestamp: number; otherAddress: NetinfoAddress; myAddresses: NetinfoAddress[] }
  | { cmd: 'CERTS'; certs: CertEntry[] }
  | { cmd: 'AUTH_CHALLENGE'; challenge: Uint8Array; methods: number[] }
  | { cmd: 'CREATE2'; handshakeType: number; handshakeData: Uint8Array }
  | { cmd: 'CREATED2'; handshakeData: Uint8Array }
  /** CREATE_FAST: X (20 bytes); CREATED_FAST: Y | KH (40 bytes) (tor-spec §5.1.5). */
  | { cmd: 'CREATE_FAST'; handshakeData: Uint8Array }
  | { cmd: 'CREATED_FAST'; handshakeData: Uint8Array }
  | { cmd: 'DESTROY'; reason: number }
  | { cmd: 'RELAY' | 'RELAY_EARLY'; body: Uint8Array }
  | { cmd: 'PADDING_NEGOTIATE'; version: 0; command: number; itoLowMs: number; itoHighMs: number }
  /** Any other command (CREATE/CREATED, AUTHENTICATE, AUTHORIZE, unassigned …): the body, uninterpreted. */
  | { cmd: 'opaque'; command: number; body: Uint8Array }

const AUTH_CHALLENGE_LEN = 32
const CREATE_FAST_LEN = 20
const CREATED_FAST_LEN = 40

/** Decodes the body of a cell with the given command. Throws only WireError. */
export function decodeChanMsg(command: number, body: Uint8Array): ChanMsg {
  const variable = isVariableLength(command)
  const r = new Reader(body, `channel message ${command}`)
  // A variable body's length came from the cell header, so running short inside it is malformed.
  if (variable) return within(r, (r) => decodeBody(command, r))
  try {
    return decodeBody(command, r)
  } catch (e) {
    if (e instanceof WireError && e.code === 'truncated') throw new WireError('bad-length', `${r.what}: fields overrun the 509-byte body`)
    throw e
  }
}

function decodeBody(command: number, r: Reader): ChanMsg {
  switch (command) {
    case ChanCmd.PADDING:
      r.rest()
      return { cmd: 'PADDING' }
    case ChanCmd.VPADDING:
      return { cmd: 'VPADDING', body: r.rest() }
    case ChanCmd.VERSIONS: {
      if (r.remaining % 2 !== 0) throw new WireError('bad-length', 'VERSIONS body has an odd length')
      const versions: number[] = []
      while (r.remaining > 0) versions.push(r.u16())
      return { cmd: 'VERSIONS', versions }
    }
    case ChanCmd.NETINFO: {
      const timestamp = r.u32()
      const otherAddress = netinfoAddress(r)
      const n = r.u8()
      const myAddresses: NetinfoAddress[] = []
      for (let i = 0; i < n; i++) myAddresses.push(netinfoAddress(r))
      r.rest()
      return { cmd: 'NETINFO', timestamp, otherAddress, myAddresses }
    }
    case ChanCmd.CERTS: {
      const n = r.u8()
      const certs: CertEntry[] = []
      for (let i = 0; i < n; i++) {
        const certType = r.u8()
        certs.push({ certType, body: r.vec16().rest() })
      }
      return { cmd: 'CERTS', certs }
    }
    case ChanCmd.AUTH_CHALLENGE: {
      const challenge = r.bytes(AUTH_CHALLENGE_LEN)
      const n = r.u16()
      const methods: number[] = []
      for (let i = 0; i < n; i++) methods.push(r.u16())
      return { cmd: 'AUTH_CHALLENGE', challenge, methods }
    }
    case ChanCmd.CREATE2: {
      const handshakeType = r.u16()
      const handshakeData = r.vec16().rest()
      r.rest()
      return { cmd: 'CREATE2', handshakeType, handshakeData }
    }
    case ChanCmd.CREATED2: {
      const handshakeData = r.vec16().rest()
      r.rest()
      return { cmd: 'CREATED2', handshakeData }
    }
    case ChanCmd.CREATE_FAST: {
      const handshakeData = r.bytes(CREATE_FAST_LEN)
      r.rest()
      return { cmd: 'CREATE_FAST', handshakeData }
    }
    case ChanCmd.CREATED_FAST: {
      const handshakeData = r.bytes(CREATED_FAST_LEN)
      r.rest()
      return { cmd: 'CREATED_FAST', handshakeData }
    }
    case ChanCmd.DESTROY: {
      const reason = r.u8()
      r.rest()
      return { cmd: 'DESTROY', reason }
    }
    case ChanCmd.RELAY:
    case ChanCmd.RELAY_EARLY: {
      if (r.remaining !== CELL_BODY_LEN) throw new WireError('bad-length', `relay body of ${r.remaining} bytes`)
      return { cmd: command === ChanCmd.RELAY ? 'RELAY' : 'RELAY_EARLY', body: r.rest() }
    }
    case ChanCmd.PADDING_NEGOTIATE: {
      // flow-control.html "Negotiating channel padding": version 0 is the only one defined.
      const version = r.u8()
      if (version !== 0) throw new WireError('unsupported', `PADDING_NEGOTIATE version ${version}`)
      const cmd = r.u8()
      const itoLowMs = r.u16()
      const itoHighMs = r.u16()
      r.rest()
      return { cmd: 'PADDING_NEGOTIATE', version: 0, command: cmd, itoLowMs, itoHighMs }
    }
    default:
      return { cmd: 'opaque', command, body: r.rest() }
  }
}

function netinfoAddress(r: Reader): NetinfoAddress {
  const type = r.u8()
  return { type, value: r.vec8().rest() }
}

const COMMAND_OF: Record<Exclude<ChanMsg['cmd'], 'opaque'>, number> = {
  PADDING: ChanCmd.PADDING,
  VPADDING: ChanCmd.VPADDING,
  VERSIONS: ChanCmd.VERSIONS,
  NETINFO: ChanCmd.NETINFO,
  CERTS: ChanCmd.CERTS,
  AUTH_CHALLENGE: ChanCmd.AUTH_CHALLENGE,
  CREATE2: ChanCmd.CREATE2,
  CREATED2: ChanCmd.CREATED2,
  CREATE_FAST: ChanCmd.CREATE_FAST,
  CREATED_FAST: ChanCmd.CREATED_FAST,
  DESTROY: ChanCmd.DESTROY,
  RELAY: ChanCmd.RELAY,
  RELAY_EARLY: ChanCmd.RELAY_EARLY,
  PADDING_NEGOTIATE: ChanCmd.PADDING_NEGOTIATE,
}

export function chanMsgCommand(msg: ChanMsg): number {
  return msg.cmd === 'opaque' ? msg.command : COMMAND_OF[msg.cmd]
}

/**
 * Encodes a message body (unpadded; encodeCell pads fixed-length bodies to 509). Throws WireError
 * for values the wire cannot carry (a body over 509 bytes in a fixed cell, a count over 255 …).
 */
export function encodeChanMsg(msg: ChanMsg): Uint8Array {
  const w = new Writer()
  switch (msg.cmd) {
    case 'PADDING':
      break
    case 'VPADDING':
      w.bytes(msg.body)
      break
    case 'VERSIONS':
      for (const v of msg.versions) w.u16(v)
      break
    case 'NETINFO':
      w.u32(msg.timestamp)
      writeNetinfoAddress(w, msg.otherAddress)
      w.u8(msg.myAddresses.length)
      for (const a of msg.myAddresses) writeNetinfoAddress(w, a)
      break
    case 'CERTS':
      w.u8(msg.certs.length)
      for (const c of msg.certs) w.u8(c.certType).vec16((w) => w.bytes(c.body))
      break
    case 'AUTH_CHALLENGE':
      if (msg.challenge.length !== AUTH_CHALLENGE_LEN) throw new WireError('bad-length', 'AUTH_CHALLENGE challenge must be 32 bytes')
      w.bytes(msg.challenge).u16(msg.methods.length)
      for (const m of msg.methods) w.u16(m)
      break
    case 'CREATE2':
      w.u16(msg.handshakeType).vec16((w) => w.bytes(msg.handshakeData))
      break
    case 'CREATED2':
      w.vec16((w) => w.bytes(msg.handshakeData))
      break
    case 'CREATE_FAST':
    case 'CREATED_FAST': {
      const want = msg.cmd === 'CREATE_FAST' ? CREATE_FAST_LEN : CREATED_FAST_LEN
      if (msg.handshakeData.length !== want) throw new WireError('bad-length', `${msg.cmd} handshake must be ${want} bytes`)
      w.bytes(msg.handshakeData)
      break
    }
    case 'DESTROY':
      w.u8(msg.reason)
      break
    case 'RELAY':
    case 'RELAY_EARLY':
      if (msg.body.length !== CELL_BODY_LEN) throw new WireError('bad-length', `relay body of ${msg.body.length} bytes`)
      w.bytes(msg.body)
      break
    case 'PADDING_NEGOTIATE':
      w.u8(0).u8(msg.command).u16(msg.itoLowMs).u16(msg.itoHighMs)
      break
    case 'opaque':
      w.bytes(msg.body)
      break
  }
  const body = w.finish()
  const command = chanMsgCommand(msg)
  if (!isVariableLength(command) && body.length > CELL_BODY_LEN) {
    throw new WireError('bad-length', `${msg.cmd} body of ${body.length} bytes does not fit a fixed cell`)
  }
  if (body.length > 0xffff) throw new WireError('too-large', `${msg.cmd} body of ${body.length} bytes`)
  return body
}

function writeNetinfoAddress(w: Writer, a: NetinfoAddress): void {
  w.u8(a.type).vec8((w) => w.bytes(a.value))
}

/** Convenience: a whole channel cell for a message on a circuit. */
export function chanMsgCell(circId: number, msg: ChanMsg): ChannelCell {
  return { circId, command: chanMsgCommand(msg), body: encodeChanMsg(msg) }
}

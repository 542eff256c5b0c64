// Typed views of the extension_data of the extensions Sultry looks at (RFC 8446 §4.2, RFC 6066,
// RFC 7301, RFC 7685, RFC 5077). Each decode* reads one complete extension_data (so running short
// is `bad-length`, leftovers are `trailing`); each encode* builds the Extension from typed values.

import { Reader, WireError, within, Writer } from '../bytes.js'
import { type Extension, ExtensionType } from './extensions.js'

function view<T>(data: Uint8Array, what: string, fn: (r: Reader) => T): T {
  return within(new Reader(data, what), fn)
}

function ext(type: number, body: (w: Writer) => void): Extension {
  const w = new Writer(64)
  body(w)
  return { type, data: w.finish() }
}

/** A vector of u16 values (NamedGroupList, SignatureSchemeList, ...): an odd length is malformed. */
function u16List(r: Reader, min: number): number[] {
  if (r.remaining % 2 !== 0) throw new WireError('bad-length', `${r.what}: odd length for a list of u16`)
  if (r.remaining < min) throw new WireError('bad-length', `${r.what}: list shorter than ${min} bytes`)
  const out: number[] = []
  while (r.remaining > 0) out.push(r.u16())
  return out
}

const utf8 = new TextDecoder('utf-8')
const utf8Encoder = new TextEncoder()

// --- server_name (RFC 6066 §3) -------------------------------------------------------------

export const NameType = { hostName: 0 } as const
export interface ServerName {
  nameType: number
  name: Uint8Array
}

/** ClientHello server_name: ServerNameList server_name_list<1..2^16-1>. */
export function decodeServerNameList(data: Uint8Array): ServerName[] {
  return view(data, 'server_name', (r) => {
    const list = within(r.vec16(), (l) => {
      const out: ServerName[] = []
      while (l.remaining > 0) {
        const nameType = l.u8()
        // Every NameType defined so far carries a u16-prefixed name; unknown ones are kept opaque the same way.
        out.push({ nameType, name: l.vec16().rest() })
      }
      return out
    })
    if (list.length === 0) throw new WireError('bad-length', 'server_name: empty server_name_list')
    return list
  })
}

/** The host_name entry as text (hostnames are ASCII; anything else is decoded leniently). */
export function hostNameOf(list: readonly ServerName[]): string | undefined {
  const entry = list.find((n) => n.nameType === NameType.hostName)
  return entry ? utf8.decode(entry.name) : undefined
}

export function encodeServerName(hostName: string): Extension {
  const name = utf8Encoder.encode(hostName)
  return ext(ExtensionType.serverName, (w) => w.vec16((l) => l.u8(NameType.hostName).vec16((n) => n.bytes(name))))
}

// --- supported_groups (RFC 8446 §4.2.7) and signature_algorithms (§4.2.3) -----------------

export const NamedGroup = {
  secp256r1: 0x0017,
  secp384r1: 0x0018,
  secp521r1: 0x0019,
  x25519: 0x001d,
  x448: 0x001e,
  ffdhe2048: 0x0100,
  ffdhe3072: 0x0101,
  ffdhe4096: 0x0102,
  ffdhe6144: 0x0103,
  ffdhe8192: 0x0104,
  X25519MLKEM768: 0x11ec,
} as const

/** NamedGroup named_group_list<2..2^16-1>. */
export function decodeNamedGroupList(data: Uint8Array): number[] {
  return view(data, 'supported_groups', (r) => within(r.vec16(), (l) => u16List(l, 2)))
}
export function encodeSupportedGroups(groups: readonly number[]): Extension {
  return ext(ExtensionType.supportedGroups, (w) => w.vec16((l) => groups.forEach((g) => l.u16(g))))
}

/** SignatureScheme supported_signature_algorithms<2..2^16-2> (also signature_algorithms_cert). */
export function decodeSignatureSchemeList(data: Uint8Array): number[] {
  return view(data, 'signature_algorithms', (r) => within(r.vec16(), (l) => u16List(l, 2)))
}
export function encodeSignatureAlgorithms(schemes: readonly number[], type: number = ExtensionType.signatureAlgorithms): Extension {
  return ext(type, (w) => w.vec16((l) => schemes.forEach((s) => l.u16(s))))
}

// --- application_layer_protocol_negotiation (RFC 7301 §3.1) -------------------------------

/** ProtocolName protocol_name_list<2..2^16-1>, each ProtocolName<1..2^8-1>; as raw bytes. */
export function decodeProtocolNameList(data: Uint8Array): Uint8Array[] {
  return view(data, 'application_layer_protocol_negotiation', (r) =>
    within(r.vec16(), (l) => {
      const out: Uint8Array[] = []
      while (l.remaining > 0) {
        const name = l.vec8().rest()
        if (name.length === 0) throw new WireError('bad-length', 'ALPN: empty ProtocolName')
        out.push(name)
      }
      if (out.length === 0) throw new WireError('bad-length', 'ALPN: empty protocol_name_list')
      return out
    }),
  )
}
export function protocolNamesAsText(names: readonly Uint8Array[]): string[] {
  return names.map((n) => utf8.decode(n))
}
export function encodeAlpn(protocols: readonly string[]): Extension {
  return ext(ExtensionType.applicationLayerProtocolNegotiation, (w) =>
    w.vec16((l) => protocols.forEach((p) => l.vec8((n) => n.bytes(utf8Encoder.encode(p))))),
  )
}

// --- padding (RFC 7685 §3) -------------------------------------------------------------------

/** Returns the padding length; the bytes must be zero. */
export function decodePadding(data: Uint8Array): number {
  if (data.some((b) => b !== 0)) throw new WireError('bad-value', 'padding: non-zero byte')
  return data.length
}
export function encodePadding(length: number): Extension {
  return { type: ExtensionType.padding, data: new Uint8Array(length) }
}

// --- session_ticket (RFC 5077 §3.2): the whole extension_data is the opaque ticket ----------

export function encodeSessionTicket(ticket: Uint8Array = new Uint8Array(0)): Extension {
  return { type: ExtensionType.sessionTicket, data: ticket.slice() }
}

// --- pre_shared_key (RFC 8446 §4.2.11) -------------------------------------------------------

export interface PskIdentity {
  identity: Uint8Array
  obfuscatedTicketAge: number
}
export interface OfferedPsks {
  identities: PskIdentity[]
  binders: Uint8Array[]
}

export function decodeOfferedPsks(data: Uint8Array): OfferedPsks {
  return view(data, 'pre_shared_key', (r) => {
    const identities = within(r.vec16(), (l) => {
      const out: PskIdentity[] = []
      while (l.remaining > 0) {
        const identity = l.vec16().rest()
        if (identity.length === 0) throw new WireError('bad-length', 'pre_shared_key: empty identity')
        out.push({ identity, obfuscatedTicketAge: l.u32() })
      }
      return out
    })
    const binders = within(r.vec16(), (l) => {
      const out: Uint8Array[] = []
      while (l.remaining > 0) {
        const binder = l.vec8().rest()
        if (binder.length < 32) throw new WireError('bad-length', 'pre_shared_key: binder shorter than 32 bytes')
        out.push(binder)
      }
      return out
    })
    if (identities.length === 0 || identities.length !== binders.length) {
      throw new WireError('bad-value', 'pre_shared_key: identities and binders must pair up')
    }
    return { identities, binders }
  })
}
export function encodeOfferedPsks(psks: OfferedPsks): Extension {
  return ext(ExtensionType.preSharedKey, (w) => {
    w.vec16((l) => psks.identities.forEach((i) => l.vec16((x) => x.bytes(i.identity)).u32(i.obfuscatedTicketAge)))
    w.vec16((l) => psks.binders.forEach((b) => l.vec8((x) => x.bytes(b))))
  })
}
/** ServerHello pre_shared_key: uint16 selected_identity. */
export function decodeSelectedIdentity(data: Uint8Array): number {
  return view(data, 'pre_shared_key', (r) => r.u16())
}
export function encodeSelectedIdentity(selectedIdentity: number): Extension {
  return ext(ExtensionType.preSharedKey, (w) => w.u16(selectedIdentity))
}

// --- supported_versions (RFC 8446 §4.2.1) ----------------------------------------------------

/** ClientHello: ProtocolVersion versions<2..254>. */
export function decodeSupportedVersionsClient(data: Uint8Array): number[] {
  return view(data, 'supported_versions', (r) => within(r.vec8(), (l) => u16List(l, 2)))
}
export function encodeSupportedVersionsClient(versions: readonly number[]): Extension {
  return ext(ExtensionType.supportedVersions, (w) => w.vec8((l) => versions.forEach((v) => l.u16(v))))
}
/** ServerHello / HelloRetryRequest: ProtocolVersion selected_version. */
export function decodeSupportedVersionsServer(data: Uint8Array): number {
  return view(data, 'supported_versions', (r) => r.u16())
}
export function encodeSupportedVersionsServer(selectedVersion: number): Extension {
  return ext(ExtensionType.supportedVersions, (w) => w.u16(selectedVersion))
}

// --- psk_key_exchange_modes (RFC 8446 §4.2.9) ------------------------------------------------

export const PskKeyExchangeMode = { pskKe: 0, pskDheKe: 1 } as const

/** PskKeyExchangeMode ke_modes<1..255>. */
export function decodePskKeyExchangeModes(data: Uint8Array): number[] {
  return view(data, 'psk_key_exchange_modes', (r) =>
    within(r.vec8(), (l) => {
      if (l.remaining === 0) throw new WireError('bad-length', 'psk_key_exchange_modes: empty ke_modes')
      return Array.from(l.rest())
    }),
  )
}
export function encodePskKeyExchangeModes(modes: readonly number[]): Extension {
  return ext(ExtensionType.pskKeyExchangeModes, (w) => w.vec8((l) => modes.forEach((m) => l.u8(m))))
}

// --- key_share (RFC 8446 §4.2.8) -------------------------------------------------------------

export interface KeyShareEntry {
  group: number
  keyExchange: Uint8Array
}

function keyShareEntry(r: Reader): KeyShareEntry {
  const group = r.u16()
  const keyExchange = r.vec16().rest()
  if (keyExchange.length === 0) throw new WireError('bad-length', 'key_share: empty key_exchange')
  return { group, keyExchange }
}

/** ClientHello: KeyShareEntry client_shares<0..2^16-1>. */
export function decodeKeyShareClientHello(data: Uint8Array): KeyShareEntry[] {
  return view(data, 'key_share', (r) =>
    within(r.vec16(), (l) => {
      const out: KeyShareEntry[] = []
      while (l.remaining > 0) out.push(keyShareEntry(l))
      return out
    }),
  )
}
export function encodeKeyShareClientHello(shares: readonly KeyShareEntry[]): Extension {
  return ext(ExtensionType.keyShare, (w) => w.vec16((l) => shares.forEach((s) => l.u16(s.group).vec16((k) => k.bytes(s.keyExchange)))))
}
/** ServerHello: KeyShareEntry server_share. */
export function decodeKeyShareServerHello(data: Uint8Array): KeyShareEntry {
  return view(data, 'key_share', keyShareEntry)
}
export function encodeKeyShareServerHello(share: KeyShareEntry): Extension {
  return ext(ExtensionType.keyShare, (w) => w.u16(share.group).vec16((k) => k.bytes(share.keyExchange)))
}
/** HelloRetryRequest: NamedGroup selected_group. */
export function decodeKeyShareHelloRetryRequest(data: Uint8Array): number {
  return view(data, 'key_share', (r) => r.u16())
}
export function encodeKeyShareHelloRetryRequest(selectedGroup: number): Extension {
  return ext(ExtensionType.keyShare, (w) => w.u16(selectedGroup))
}

// --- encrypted_client_hello (draft-ietf-tls-esni): kept opaque -------------------------------

export function encodeEncryptedClientHello(payload: Uint8Array): Extension {
  return { type: ExtensionType.encryptedClientHello, data: payload.slice() }
}

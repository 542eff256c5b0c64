// ServerHello and HelloRetryRequest (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3).

import { equalBytes, fromHex, Reader, WireError, within, Writer } from '../bytes.js'
import {
  decodeKeyShareHelloRetryRequest,
  decodeKeyShareServerHello,
  decodeProtocolNameList,
  decodeSelectedIdentity,
  decodeSupportedVersionsServer,
  protocolNamesAsText,
} from './extension-data.js'
import { decodeExtensions, encodeExtensions, type Extension, ExtensionType, findExtension } from './extensions.js'

export interface ServerHello {
  legacyVersion: number
  random: Uint8Array
  legacySessionIdEcho: Uint8Array
  cipherSuite: number
  legacyCompressionMethod: number
  /** undefined: no extensions block at all (TLS 1.2 and older may omit it). */
  extensions: Extension[] | undefined
}

/** RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello whose random is SHA-256("HelloRetryRequest"), printed there. */
export const HELLO_RETRY_REQUEST_RANDOM: Uint8Array = fromHex('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c')

export function isHelloRetryRequest(h: Pick<ServerHello, 'random'>): boolean {
  return equalBytes(h.random, HELLO_RETRY_REQUEST_RANDOM)
}

/** Decodes a ServerHello handshake body (without the 4-byte handshake header). */
export function decodeServerHello(body: Uint8Array): ServerHello {
  return within(new Reader(body, 'ServerHello'), (r) => {
    const legacyVersion = r.u16()
    const random = r.bytes(32)
    const legacySessionIdEcho = r.vec8().rest()
    if (legacySessionIdEcho.length > 32) throw new WireError('bad-length', 'ServerHello: legacy_session_id_echo longer than 32')
    const cipherSuite = r.u16()
    const legacyCompressionMethod = r.u8()
    const extensions = r.remaining > 0 ? decodeExtensions(r) : undefined
    return { legacyVersion, random, legacySessionIdEcho, cipherSuite, legacyCompressionMethod, extensions }
  })
}

export function encodeServerHello(h: ServerHello): Uint8Array {
  if (h.random.length !== 32) throw new WireError('bad-length', 'ServerHello: random must be 32 bytes')
  if (h.legacySessionIdEcho.length > 32) throw new WireError('bad-length', 'ServerHello: legacy_session_id_echo longer than 32')
  const w = new Writer(256)
  w.u16(h.legacyVersion).bytes(h.random)
  w.vec8((v) => v.bytes(h.legacySessionIdEcho))
  w.u16(h.cipherSuite).u8(h.legacyCompressionMethod)
  if (h.extensions) encodeExtensions(w, h.extensions)
  return w.finish()
}

export interface ServerHelloView {
  helloRetryRequest: boolean
  /** supported_versions selected_version; TLS 1.3 iff 0x0304. */
  selectedVersion?: number
  /** ServerHello: the server_share's group; HelloRetryRequest: selected_group. */
  keyShareGroup?: number
  selectedIdentity?: number
  alpn?: string
}

export function viewServerHello(h: ServerHello, onError?: (type: number, e: WireError) => void): ServerHelloView {
  const helloRetryRequest = isHelloRetryRequest(h)
  const read = <T>(type: number, fn: (data: Uint8Array) => T): T | undefined => {
    const e = findExtension(h.extensions, type)
    if (!e) return undefined
    try {
      return fn(e.data)
    } catch (err) {
      if (onError && err instanceof WireError) {
        onError(type, err)
        return undefined
      }
      throw err
    }
  }
  const out: ServerHelloView = { helloRetryRequest }
  const selectedVersion = read(ExtensionType.supportedVersions, decodeSupportedVersionsServer)
  if (selectedVersion !== undefined) out.selectedVersion = selectedVersion
  const keyShareGroup = read(ExtensionType.keyShare, (d) =>
    helloRetryRequest ? decodeKeyShareHelloRetryRequest(d) : decodeKeyShareServerHello(d).group,
  )
  if (keyShareGroup !== undefined) out.keyShareGroup = keyShareGroup
  const selectedIdentity = read(ExtensionType.preSharedKey, decodeSelectedIdentity)
  if (selectedIdentity !== undefined) out.selectedIdentity = selectedIdentity
  const alpn = read(ExtensionType.applicationLayerProtocolNegotiation, (d) => {
    const names = decodeProtocolNameList(d)
    if (names.length !== 1) throw new WireError('bad-value', 'ServerHello ALPN: must name exactly one protocol')
    return protocolNamesAsText(names)[0]
  })
  if (alpn !== undefined) out.alpn = alpn
  return out
}

// ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2): the handshake body, decoded field by field
// and re-encoded byte for byte (extensions keep their raw extension_data).

import { Reader, WireError, within, Writer } from '../bytes.js'
import {
  decodeKeyShareClientHello,
  decodeNamedGroupList,
  decodeProtocolNameList,
  decodePskKeyExchangeModes,
  decodeServerNameList,
  decodeSignatureSchemeList,
  decodeSupportedVersionsClient,
  hostNameOf,
  protocolNamesAsText,
} from './extension-data.js'
import { decodeExtensions, encodeExtensions, type Extension, ExtensionType, findExtension } from './extensions.js'

export interface ClientHello {
  legacyVersion: number
  /** 32 bytes. */
  random: Uint8Array
  /** 0..32 bytes. */
  legacySessionId: Uint8Array
  cipherSuites: number[]
  legacyCompressionMethods: number[]
  /** undefined: the hello ends after the compression methods (pre-TLS 1.2 style, no extensions block). */
  extensions: Extension[] | undefined
}

/** Decodes a ClientHello handshake body (without the 4-byte handshake header). */
export function decodeClientHello(body: Uint8Array): ClientHello {
  return within(new Reader(body, 'ClientHello'), (r) => {
    const legacyVersion = r.u16()
    const random = r.bytes(32)
    const legacySessionId = r.vec8().rest()
    if (legacySessionId.length > 32) throw new WireError('bad-length', 'ClientHello: legacy_session_id longer than 32')
    const suites = r.vec16()
    if (suites.remaining < 2 || suites.remaining % 2 !== 0) throw new WireError('bad-length', 'ClientHello: cipher_suites length')
    const cipherSuites: number[] = []
    while (suites.remaining > 0) cipherSuites.push(suites.u16())
    const legacyCompressionMethods = Array.from(r.vec8().rest())
    if (legacyCompressionMethods.length === 0) throw new WireError('bad-length', 'ClientHello: empty legacy_compression_methods')
    const extensions = r.remaining > 0 ? decodeExtensions(r) : undefined
    return { legacyVersion, random, legacySessionId, cipherSuites, legacyCompressionMethods, extensions }
  })
}

export function encodeClientHello(h: ClientHello): Uint8Array {
  if (h.random.length !== 32) throw new WireError('bad-length', 'ClientHello: random must be 32 bytes')
  if (h.legacySessionId.length > 32) throw new WireError('bad-length', 'ClientHello: legacy_session_id longer than 32')
  if (h.cipherSuites.length === 0) throw new WireError('bad-length', 'ClientHello: no cipher_suites')
  if (h.legacyCompressionMethods.length === 0) throw new WireError('bad-length', 'ClientHello: no legacy_compression_methods')
  const w = new Writer(512)
  w.u16(h.legacyVersion).bytes(h.random)
  w.vec8((v) => v.bytes(h.legacySessionId))
  w.vec16((v) => h.cipherSuites.forEach((s) => v.u16(s)))
  w.vec8((v) => h.legacyCompressionMethods.forEach((m) => v.u8(m)))
  if (h.extensions) encodeExtensions(w, h.extensions)
  return w.finish()
}

/** What a dissector, a censor or a proxy wants to know about a ClientHello, typed. */
export interface ClientHelloView {
  serverName?: string
  alpn?: string[]
  supportedVersions?: number[]
  supportedGroups?: number[]
  keyShareGroups?: number[]
  signatureAlgorithms?: number[]
  pskKeyExchangeModes?: number[]
  hasPreSharedKey: boolean
  hasEncryptedClientHello: boolean
}

/**
 * Typed views of the extensions present. A malformed extension_data throws its WireError
 * (callers that want the rest anyway use `onError`).
 */
export function viewClientHello(h: ClientHello, onError?: (type: number, e: WireError) => void): ClientHelloView {
  const out: ClientHelloView = {
    hasPreSharedKey: findExtension(h.extensions, ExtensionType.preSharedKey) !== undefined,
    hasEncryptedClientHello: findExtension(h.extensions, ExtensionType.encryptedClientHello) !== undefined,
  }
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
  out.serverName = read(ExtensionType.serverName, (d) => hostNameOf(decodeServerNameList(d)))
  out.alpn = read(ExtensionType.applicationLayerProtocolNegotiation, (d) => protocolNamesAsText(decodeProtocolNameList(d)))
  out.supportedVersions = read(ExtensionType.supportedVersions, decodeSupportedVersionsClient)
  out.supportedGroups = read(ExtensionType.supportedGroups, decodeNamedGroupList)
  out.keyShareGroups = read(ExtensionType.keyShare, (d) => decodeKeyShareClientHello(d).map((s) => s.group))
  out.signatureAlgorithms = read(ExtensionType.signatureAlgorithms, decodeSignatureSchemeList)
  out.pskKeyExchangeModes = read(ExtensionType.pskKeyExchangeModes, decodePskKeyExchangeModes)
  for (const k of Object.keys(out) as (keyof ClientHelloView)[]) if (out[k] === undefined) delete out[k]
  return out
}

// The Extension list shared by hellos and other handshake messages (RFC 8446 §4.2). Each
// extension keeps its extension_data bytes untouched, so an unknown or oddly encoded extension
// re-encodes byte for byte; typed views live in extension-data.ts.

import { type Reader, WireError, type Writer } from '../bytes.js'

/** ExtensionType (RFC 8446 §4.2 and the registries it points to). */
export const ExtensionType = {
  serverName: 0,
  maxFragmentLength: 1,
  statusRequest: 5,
  supportedGroups: 10,
  ecPointFormats: 11,
  signatureAlgorithms: 13,
  useSrtp: 14,
  heartbeat: 15,
  applicationLayerProtocolNegotiation: 16,
  signedCertificateTimestamp: 18,
  clientCertificateType: 19,
  serverCertificateType: 20,
  padding: 21,
  encryptThenMac: 22,
  extendedMasterSecret: 23,
  compressCertificate: 27,
  recordSizeLimit: 28,
  sessionTicket: 35,
  preSharedKey: 41,
  earlyData: 42,
  supportedVersions: 43,
  cookie: 44,
  pskKeyExchangeModes: 45,
  certificateAuthorities: 47,
  oidFilters: 48,
  postHandshakeAuth: 49,
  signatureAlgorithmsCert: 50,
  keyShare: 51,
  applicationSettings: 0x4469,
  encryptedClientHello: 0xfe0d,
  renegotiationInfo: 0xff01,
} as const

export interface Extension {
  /** ExtensionType (may be GREASE or unknown). */
  type: number
  /** extension_data exactly as on the wire. */
  data: Uint8Array
}

/** Reads `Extension extensions<0..2^16-1>` from `r` (the u16 length prefix included). */
export function decodeExtensions(r: Reader): Extension[] {
  const list = r.vec16()
  const out: Extension[] = []
  try {
    while (list.remaining > 0) {
      const type = list.u16()
      const data = list.vec16().rest()
      out.push({ type, data })
    }
  } catch (e) {
    if (e instanceof WireError && e.code === 'truncated') {
      throw new WireError('bad-length', `${r.what}: extension overruns the extensions block`)
    }
    throw e
  }
  return out
}

export function encodeExtensions(w: Writer, extensions: readonly Extension[]): void {
  w.vec16((b) => {
    for (const e of extensions) b.u16(e.type).vec16((d) => d.bytes(e.data))
  })
}

export function findExtension(extensions: readonly Extension[] | undefined, type: number): Extension | undefined {
  return extensions?.find((e) => e.type === type)
}

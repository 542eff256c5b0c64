// Test-only: ClientHellos built from typed values with the project's encoders, framed into records
// at chosen points, so the gate and the strategies can be fed hellos of any shape.

import { concatBytes } from '../../wire/bytes.js'
import { encodeClientHello } from '../../wire/tls/client-hello.js'
import * as X from '../../wire/tls/extension-data.js'
import type { Extension } from '../../wire/tls/extensions.js'
import { encodeHandshake, HandshakeType } from '../../wire/tls/handshake.js'
import { ContentType, encodeRecordHeader } from '../../wire/tls/record.js'

export interface HelloShape {
  sni?: string
  alpn?: string[]
  psk?: boolean
  /** Bytes of an extra key share, to make post-quantum-sized hellos (ML-KEM-768 + X25519 is 1216). */
  keyShareBytes?: number
}

export function helloMessage(shape: HelloShape): Uint8Array {
  const ext: Extension[] = []
  if (shape.sni !== undefined) ext.push(X.encodeServerName(shape.sni))
  if (shape.alpn) ext.push(X.encodeAlpn(shape.alpn))
  ext.push(X.encodeSupportedVersionsClient([0x0304, 0x0303]))
  ext.push(X.encodeKeyShareClientHello([{ group: 0x11ec, keyExchange: new Uint8Array(shape.keyShareBytes ?? 32).fill(7) }]))
  if (shape.psk) {
    ext.push(X.encodePskKeyExchangeModes([1]))
    ext.push(X.encodeOfferedPsks({ identities: [{ identity: new Uint8Array(40).fill(1), obfuscatedTicketAge: 5 }], binders: [new Uint8Array(32).fill(2)] }))
  }
  const body = encodeClientHello({
    legacyVersion: 0x0303,
    random: new Uint8Array(32).fill(9),
    legacySessionId: new Uint8Array(32).fill(3),
    cipherSuites: [0x1301, 0x1302],
    legacyCompressionMethods: [0],
    extensions: ext,
  })
  return encodeHandshake({ msgType: HandshakeType.clientHello, body })
}

/** Frames handshake bytes as records, cutting at `cuts` (offsets into the message, ascending). */
export function framed(message: Uint8Array, cuts: number[] = []): Uint8Array {
  const points = [0, ...cuts.filter((c) => c > 0 && c < message.length), message.length]
  const parts: Uint8Array[] = []
  for (let i = 0; i + 1 < points.length; i++) {
    const frag = message.subarray(points[i], points[i + 1])
    if (frag.length === 0) continue
    parts.push(encodeRecordHeader(ContentType.handshake, 0x0301, frag.length), frag)
  }
  return concatBytes(...parts)
}

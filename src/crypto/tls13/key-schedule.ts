// The TLS 1.3 key schedule pieces (RFC 8446 §7.1, §7.3) over HKDF (RFC 5869) from @noble/hashes.

import { expand, extract } from '@noble/hashes/hkdf.js'
import { concatBytes, Writer } from '../../wire/bytes.js'
import type { CipherSuite, Hash } from './cipher-suites.js'

export function hkdfExtract(hash: Hash, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return extract(hash, ikm, salt)
}

export function hkdfExpand(hash: Hash, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return expand(hash, prk, info, length)
}

const ascii = new TextEncoder()

/** HKDF-Expand-Label(Secret, Label, Context, Length) with HkdfLabel { length, "tls13 " + label, context }. */
export function hkdfExpandLabel(hash: Hash, secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const hkdfLabel = new Writer(2 + 1 + 6 + label.length + 1 + context.length)
    .u16(length)
    .vec8((w) => w.bytes(ascii.encode('tls13 ' + label)))
    .vec8((w) => w.bytes(context))
    .finish()
  return hkdfExpand(hash, secret, hkdfLabel, length)
}

/** Derive-Secret(Secret, Label, Messages) = HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length). */
export function deriveSecret(hash: Hash, secret: Uint8Array, label: string, messages: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, secret, label, hash(messages), hash.outputLen)
}

/** Early Secret = HKDF-Extract(0, PSK), with PSK all zeros when none is used. */
export function earlySecret(hash: Hash, psk: Uint8Array = new Uint8Array(hash.outputLen)): Uint8Array {
  return hkdfExtract(hash, new Uint8Array(hash.outputLen), psk)
}

/** Handshake Secret = HKDF-Extract(Derive-Secret(Early Secret, "derived", ""), (EC)DHE). */
export function handshakeSecret(hash: Hash, early: Uint8Array, sharedSecret: Uint8Array): Uint8Array {
  return hkdfExtract(hash, deriveSecret(hash, early, 'derived', new Uint8Array(0)), sharedSecret)
}

/** Master Secret = HKDF-Extract(Derive-Secret(Handshake Secret, "derived", ""), 0). */
export function masterSecret(hash: Hash, handshake: Uint8Array): Uint8Array {
  return hkdfExtract(hash, deriveSecret(hash, handshake, 'derived', new Uint8Array(0)), new Uint8Array(hash.outputLen))
}

export interface TrafficKeys {
  key: Uint8Array
  iv: Uint8Array
}

/** [sender]_write_key / _iv from a traffic secret (RFC 8446 §7.3). */
export function trafficKeys(suite: CipherSuite, trafficSecret: Uint8Array): TrafficKeys {
  return {
    key: hkdfExpandLabel(suite.hash, trafficSecret, 'key', new Uint8Array(0), suite.keyLength),
    iv: hkdfExpandLabel(suite.hash, trafficSecret, 'iv', new Uint8Array(0), suite.ivLength),
  }
}

/** application_traffic_secret_N+1 after a KeyUpdate (RFC 8446 §7.2). */
export function nextApplicationTrafficSecret(suite: CipherSuite, secret: Uint8Array): Uint8Array {
  return hkdfExpandLabel(suite.hash, secret, 'traffic upd', new Uint8Array(0), suite.hashLength)
}

/** Transcript-Hash over concatenated handshake messages (headers included). */
export function transcriptHash(hash: Hash, ...messages: Uint8Array[]): Uint8Array {
  return hash(concatBytes(...messages))
}

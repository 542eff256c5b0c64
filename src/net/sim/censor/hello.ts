// What the TLS-parsing rungs do with a ClientHello once they have one, and how the shallow rungs
// (C2–C4) read one from a single record the way 2010s DPI did: record header, handshake header,
// ClientHello body, all inside the bytes at hand; anything cut short is "truncated".

import { WireError } from '../../../wire/bytes.js'
import { type ClientHello, decodeClientHello, viewClientHello } from '../../../wire/tls/client-hello.js'
import { ExtensionType, findExtension } from '../../../wire/tls/extensions.js'
import { decodeHandshake, HandshakeType } from '../../../wire/tls/handshake.js'
import { ContentType, decodeRecord } from '../../../wire/tls/record.js'
import { block, type Decision } from './inspector.js'
import { type Blocklist, listedName } from './policy.js'

/** The pre-standard ESNI extension the GFW blocked in 2020 (draft-ietf-tls-esni-00..06). */
export const ESNI_DRAFT_EXTENSION = 0xffce

export interface HelloFacts {
  sni: string | undefined
  ech: boolean
}

export function helloFacts(h: ClientHello): HelloFacts {
  // A malformed server_name is as good as none to a censor.
  const view = viewClientHello(h, () => {})
  const ech = findExtension(h.extensions, ExtensionType.encryptedClientHello) !== undefined || findExtension(h.extensions, ESNI_DRAFT_EXTENSION) !== undefined
  return { sni: view.serverName, ech }
}

/** Block on a listed SNI; undefined when the name is not listed (or absent). */
export function sniVerdict(list: Blocklist, facts: HelloFacts): Decision | undefined {
  if (facts.sni === undefined) return undefined
  const hit = listedName(list, facts.sni)
  return hit ? block(`SNI ${facts.sni} matches ${hit}`) : undefined
}

export type FirstRecordHello =
  | { kind: 'hello'; hello: ClientHello }
  /** The record, or the hello inside it, continues past the bytes given. */
  | { kind: 'truncated'; where: 'record' | 'hello' }
  | { kind: 'not-tls'; why: string }

/** Reads a ClientHello from the first record in `bytes` (and from nothing after that record). */
export function helloInFirstRecord(bytes: Uint8Array): FirstRecordHello {
  let fragment: Uint8Array
  try {
    const { record } = decodeRecord(bytes)
    if (record.type !== ContentType.handshake) return { kind: 'not-tls', why: `record type ${record.type}` }
    fragment = record.fragment
  } catch (e) {
    if (!(e instanceof WireError)) throw e
    return e.code === 'truncated' ? { kind: 'truncated', where: 'record' } : { kind: 'not-tls', why: e.message }
  }
  try {
    const { message } = decodeHandshake(fragment)
    if (message.msgType !== HandshakeType.clientHello) return { kind: 'not-tls', why: `handshake type ${message.msgType}` }
    return { kind: 'hello', hello: decodeClientHello(message.body) }
  } catch (e) {
    if (!(e instanceof WireError)) throw e
    return e.code === 'truncated' ? { kind: 'truncated', where: 'hello' } : { kind: 'not-tls', why: e.message }
  }
}

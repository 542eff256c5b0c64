// Replays a committed capture through our dissector and checks it against (1) the committed tshark
// oracle (captures/<name>.oracle.json) and (2) the hand-written expectations
// (captures/<name>.expect.json). What `make lab` runs for every capture; needs no tshark.

import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isGrease } from '../src/wire/tls/grease.js'
import { applicationPlaintext, compareViews, dissectCapture, type DissectedCapture, type Dir, formatDifference, handshakeSpan, loadOracle, normaliseOurs } from './oracle.js'

export const capturesDir = dirname(fileURLToPath(import.meta.url))

/** A value in an expect file: a number, or a "0x…" string where hex reads better. */
type Num = number | string

/** One hand-written fact about a capture; `say` is the sentence, the other keys make it checkable. */
export interface ExpectFact {
  say: string
  /** The capture has this many TCP flows. */
  flows?: number
  flow?: number
  dir?: Dir
  clientHello?: {
    /** Which ClientHello of the flow (0 = first; 1 = the one after a HelloRetryRequest). */
    index?: number
    sni?: string
    alpn?: string[]
    /** TCP segments that carried bytes of the message's records. */
    segments?: number
    /** TLS records the message was fragmented over. */
    records?: number
    keyShareGroups?: Num[]
    keyShareGroupsInclude?: Num[]
    cipherSuitesInclude?: Num[]
    extensionsInclude?: Num[]
    /** Minimum number of GREASE (RFC 8701) values among the extension types. */
    greaseExtensions?: number
    minLength?: number
  }
  serverHello?: {
    index?: number
    cipherSuite?: Num
    selectedVersion?: Num
    keyShareGroup?: Num
    helloRetryRequest?: boolean
  }
  /** Number of TLS records in direction `dir`. */
  records?: number
  /** Handshake types inside the decrypted records of direction `dir`, in order. */
  innerHandshakes?: number[]
  /** Decrypted application data of direction `dir` contains this text. */
  plaintextIncludes?: string
}

export interface ExpectFile {
  facts: ExpectFact[]
}

export interface CaptureCheck {
  ok: boolean
  detail: string
}

/** Names of the committed captures (captures/<name>.pcap that have an oracle), sorted. */
export function listCaptures(): string[] {
  return readdirSync(capturesDir)
    .filter((f) => f.endsWith('.pcap') && existsSync(join(capturesDir, f.replace(/\.pcap$/, '.oracle.json'))))
    .map((f) => f.replace(/\.pcap$/, ''))
    .sort()
}

const asNum = (x: Num): number => (typeof x === 'number' ? x : Number(x))

/** Checks one fact against our dissection; returns why it fails, or undefined if it holds. */
export function checkFact(d: DissectedCapture, fact: ExpectFact): string | undefined {
  if (fact.flows !== undefined && d.flows.length !== fact.flows) return `${d.flows.length} flows`
  if (fact.flow === undefined) return undefined
  const f = d.flows.find((x) => x.flow.id === fact.flow)
  if (!f) return `no flow ${fact.flow}`
  const ch = fact.clientHello
  if (ch) {
    const all = f.tls.client.handshakes.filter((h) => h.clientHello)
    const h = all[ch.index ?? 0]
    if (!h?.clientHello) return `no ClientHello #${ch.index ?? 0} (saw ${all.length})`
    const c = h.clientHello
    if (ch.sni !== undefined && c.sni !== ch.sni) return `SNI ${c.sni}`
    if (ch.alpn && JSON.stringify(c.alpn) !== JSON.stringify(ch.alpn)) return `ALPN ${JSON.stringify(c.alpn)}`
    const span = handshakeSpan(f.flow.toServer, f.tls.client.records, h)
    if (ch.segments !== undefined && span.segments !== ch.segments) return `spans ${span.segments} TCP segment(s)`
    if (ch.records !== undefined && span.records !== ch.records) return `spans ${span.records} record(s)`
    if (ch.keyShareGroups && JSON.stringify(c.keyShareGroups) !== JSON.stringify(ch.keyShareGroups.map(asNum))) return `key share groups ${JSON.stringify(c.keyShareGroups)}`
    for (const g of ch.keyShareGroupsInclude ?? []) if (!c.keyShareGroups?.includes(asNum(g))) return `key share group ${g} missing`
    for (const s of ch.cipherSuitesInclude ?? []) if (!c.cipherSuites.includes(asNum(s))) return `cipher suite ${s} missing`
    const types = c.extensions.map((e) => e.type)
    for (const e of ch.extensionsInclude ?? []) if (!types.includes(asNum(e))) return `extension ${e} missing`
    const grease = types.filter(isGrease).length
    if (ch.greaseExtensions !== undefined && grease < ch.greaseExtensions) return `${grease} GREASE extension(s)`
    if (ch.minLength !== undefined && h.length < ch.minLength) return `ClientHello is ${h.length} bytes`
  }
  const sh = fact.serverHello
  if (sh) {
    const all = f.tls.server.handshakes.filter((h) => h.serverHello)
    const s = all[sh.index ?? 0]?.serverHello
    if (!s) return `no ServerHello #${sh.index ?? 0}`
    if (sh.cipherSuite !== undefined && s.cipherSuite !== asNum(sh.cipherSuite)) return `cipher suite 0x${s.cipherSuite.toString(16)}`
    if (sh.selectedVersion !== undefined && s.selectedVersion !== asNum(sh.selectedVersion)) return `selected version ${s.selectedVersion}`
    if (sh.keyShareGroup !== undefined && s.keyShareGroup !== asNum(sh.keyShareGroup)) return `key share group ${s.keyShareGroup}`
    if (sh.helloRetryRequest !== undefined && s.helloRetryRequest !== sh.helloRetryRequest) return `helloRetryRequest ${s.helloRetryRequest}`
  }
  if (fact.dir) {
    const side = fact.dir === 'toServer' ? 'client' : 'server'
    if (fact.records !== undefined && f.tls[side].records.length !== fact.records) return `${f.tls[side].records.length} records`
    if (fact.innerHandshakes || fact.plaintextIncludes !== undefined) {
      if (!f.decrypted) return 'not decrypted (no keylog, or not TLS 1.3)'
      if ('error' in f.decrypted) return `not decrypted: ${f.decrypted.error}`
      const dd = f.decrypted[side]
      if (dd.error) return `decryption stopped at record ${dd.error.recordIndex}: ${dd.error.message}`
      const inner = dd.records.flatMap((r) => r.handshakeTypes)
      if (fact.innerHandshakes && JSON.stringify(inner) !== JSON.stringify(fact.innerHandshakes)) return `inner handshakes ${JSON.stringify(inner)}`
      const text = Buffer.from(applicationPlaintext(f)?.[fact.dir] ?? new Uint8Array()).toString('latin1')
      if (fact.plaintextIncludes !== undefined && !text.includes(fact.plaintextIncludes)) return `plaintext ${JSON.stringify(text.slice(0, 60))}`
    }
  }
  return undefined
}

/** Our dissection of a committed capture, decrypted with its keylog if there is one. */
export function dissectCommitted(name: string): DissectedCapture {
  const pcap = readFileSync(join(capturesDir, `${name}.pcap`))
  const keylogPath = join(capturesDir, `${name}.keylog`)
  return dissectCapture(pcap, existsSync(keylogPath) ? readFileSync(keylogPath, 'utf8') : undefined)
}

/** Compares our dissection of captures/<name>.pcap with its committed oracle and expect file. */
export async function checkCapture(name: string): Promise<CaptureCheck> {
  const problems: string[] = []
  let d: DissectedCapture
  try {
    d = dissectCommitted(name)
  } catch (e) {
    return { ok: false, detail: `cannot read capture: ${e instanceof Error ? e.message : String(e)}` }
  }
  if (d.captureError) problems.push(`capture file: ${d.captureError}`)
  for (const f of d.flows) {
    for (const side of ['client', 'server'] as const) {
      const err = f.tls[side].error
      if (err) problems.push(`flow ${f.flow.id} ${side}: ${err.code} at offset ${err.offset}: ${err.message}`)
    }
  }
  const oracle = loadOracle(join(capturesDir, `${name}.oracle.json`))
  const diffs = compareViews(normaliseOurs(d), oracle.flows)
  problems.push(...diffs.slice(0, 5).map(formatDifference))
  if (diffs.length > 5) problems.push(`… ${diffs.length - 5} more differences`)

  const expectPath = join(capturesDir, `${name}.expect.json`)
  let facts: ExpectFact[] = []
  if (!existsSync(expectPath)) problems.push('no expect file')
  else facts = (JSON.parse(readFileSync(expectPath, 'utf8')) as ExpectFile).facts
  for (const fact of facts) {
    const why = checkFact(d, fact)
    if (why) problems.push(`expected "${fact.say}", but ${why}`)
  }
  if (problems.length) return { ok: false, detail: problems.join('; ') }
  const records = oracle.flows.reduce((n, f) => n + f.toServer.records.length + f.toClient.records.length, 0)
  const handshakes = oracle.flows.reduce((n, f) => n + f.toServer.handshakes.length + f.toClient.handshakes.length, 0)
  return { ok: true, detail: `${d.flows.length} flow(s), ${records} records and ${handshakes} handshakes as tshark saw them; ${facts.length} expected facts hold` }
}

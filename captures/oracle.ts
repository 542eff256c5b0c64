// The differential oracle for captures: our dissection of a pcap and tshark's, both normalised to
// the same per-flow, per-direction rows, and a field-by-field comparison of the two.
//
// Rows are ordered lists per direction (records in stream order, handshake messages in stream
// order), never per frame: tshark shows a record or a handshake message in the frame where its
// reassembly completes, our dissector works on the reassembled stream, and only the order within a
// direction is common ground (lab.md §7).
//
// Outer and inner record types are separate columns (lab.md §7 pitfall b): `records[].type` is the
// type on the wire (tshark's tls.record.opaque_type when it decrypted, else content_type); `inner`
// lists what the TLS 1.3 encrypted records carry, as decrypted with the capture's keylog.

import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { toHex } from '../src/wire/bytes.js'
import { parseKeylog } from '../src/wire/keylog.js'
import { readCapture } from '../src/wire/pcap/capture.js'
import { reassembleCapture } from '../src/wire/pcap/reassemble-capture.js'
import type { DirectionStream, TcpFlow } from '../src/wire/pcap/tcp-reassembly.js'
import { type ConversationDissection, dissectTlsConversation, type HandshakeSummary, TLS13 } from '../src/wire/tls/dissect.js'
import { type DecryptedDirection, decryptTls13Conversation, negotiatedCipherSuite, secretsForConversation } from '../src/crypto/tls13/conversation.js'
import { ContentType, RECORD_HEADER_LENGTH } from '../src/wire/tls/record.js'

// ---------------------------------------------------------------------------------------------
// The normalised shape both sides are reduced to.

export interface NormRecord {
  type: number
  version: number
  length: number
}

export interface NormClientHello {
  version: number
  random: string
  cipherSuites: number[]
  extensions: number[]
  sni: string | null
  alpn: string[] | null
  supportedVersions: number[] | null
  keyShareGroups: number[] | null
}

export interface NormServerHello {
  version: number
  random: string
  cipherSuite: number
  extensions: number[]
  selectedVersion: number | null
  keyShareGroup: number | null
  alpn: string | null
  helloRetryRequest: boolean
}

export interface NormHandshake {
  type: number
  length: number
  clientHello?: NormClientHello
  serverHello?: NormServerHello
}

/** What the encrypted (TLS 1.3) records of one direction carry once decrypted with the keylog. */
export interface NormInner {
  /** Inner content type of each encrypted record, in order (null: not decrypted). */
  types: (number | null)[]
  /** Handshake message types inside them, in order. */
  handshakes: number[]
}

export interface NormDirection {
  records: NormRecord[]
  handshakes: NormHandshake[]
  inner: NormInner
}

export interface NormFlow {
  /** tshark's tcp.stream = our flow id. */
  stream: number
  client: string
  server: string
  toServer: NormDirection
  toClient: NormDirection
}

export interface OracleFile {
  /** How the file was made: tshark version and the commands. */
  generatedBy: string
  flows: NormFlow[]
}

export type Dir = 'toServer' | 'toClient'
export const DIRS: readonly Dir[] = ['toServer', 'toClient']

const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c' // RFC 8446 §4.1.3

// ---------------------------------------------------------------------------------------------
// Our side: pcap -> TCP flows -> TLS dissection (-> TLS 1.3 decryption with the keylog).

export interface DissectedFlow {
  flow: TcpFlow
  tls: ConversationDissection
  /** Present when the flow is TLS 1.3 and a keylog was given. */
  decrypted?: { client: DecryptedDirection; server: DecryptedDirection } | { error: string }
}

export interface DissectedCapture {
  format: string
  packets: number
  /** Set when the capture file itself was cut short or malformed. */
  captureError?: string
  flows: DissectedFlow[]
}

/** Reads, reassembles and dissects a capture; decrypts TLS 1.3 flows whose secrets are in the keylog. */
export function dissectCapture(pcap: Uint8Array, keylogText?: string): DissectedCapture {
  const capture = readCapture(pcap)
  const { flows } = reassembleCapture(capture)
  const keylog = keylogText === undefined ? undefined : parseKeylog(keylogText)
  const out: DissectedCapture = { format: capture.format, packets: capture.packets.length, flows: [] }
  if (capture.error) out.captureError = `${capture.error.code}: ${capture.error.message}`
  for (const flow of flows) {
    const tls = dissectTlsConversation(flow.toServer.bytes, flow.toClient.bytes)
    const d: DissectedFlow = { flow, tls }
    const selected = tls.server.handshakes.find((h) => h.serverHello && !h.serverHello.helloRetryRequest)?.serverHello
    if (keylog && selected?.selectedVersion === TLS13) {
      const secrets = secretsForConversation(tls, keylog)
      const cipherSuite = negotiatedCipherSuite(tls)
      if (!secrets) d.decrypted = { error: 'no keylog entry for this ClientHello random' }
      else if (cipherSuite === undefined) d.decrypted = { error: 'no ServerHello cipher suite' }
      else d.decrypted = decryptTls13Conversation({ dissection: tls, clientToServer: flow.toServer.bytes, serverToClient: flow.toClient.bytes, secrets, cipherSuite })
    }
    out.flows.push(d)
  }
  return out
}

/** How many TCP segments and TLS records carried a handshake message of one direction. */
export function handshakeSpan(stream: DirectionStream, records: { offset: number; length: number }[], hs: HandshakeSummary): { segments: number; records: number } {
  const start = records[hs.firstRecord].offset
  const last = records[hs.lastRecord]
  const end = last.offset + RECORD_HEADER_LENGTH + last.length
  const segments = stream.chunks.filter((c) => c.offset < end && c.offset + c.length > start).length
  return { segments, records: hs.lastRecord - hs.firstRecord + 1 }
}

function normHandshake(h: HandshakeSummary): NormHandshake {
  const n: NormHandshake = { type: h.type, length: h.length }
  const c = h.clientHello
  if (c) {
    n.clientHello = {
      version: c.version,
      random: c.random,
      cipherSuites: c.cipherSuites,
      extensions: c.extensions.map((e) => e.type),
      sni: c.sni ?? null,
      alpn: c.alpn ?? null,
      supportedVersions: c.supportedVersions ?? null,
      keyShareGroups: c.keyShareGroups ?? null,
    }
  }
  const s = h.serverHello
  if (s) {
    n.serverHello = {
      version: s.version,
      random: s.random,
      cipherSuite: s.cipherSuite,
      extensions: s.extensions.map((e) => e.type),
      selectedVersion: s.selectedVersion ?? null,
      keyShareGroup: s.keyShareGroup ?? null,
      alpn: s.alpn ?? null,
      helloRetryRequest: s.helloRetryRequest,
    }
  }
  return n
}

/** Our normalised view of a dissected capture. */
export function normaliseOurs(d: DissectedCapture): NormFlow[] {
  return d.flows.map(({ flow, tls, decrypted }) => {
    const dir = (side: 'client' | 'server'): NormDirection => {
      const inner: NormInner = { types: [], handshakes: [] }
      if (decrypted && !('error' in decrypted)) {
        const dd = decrypted[side]
        const byIndex = new Map(dd.records.map((r) => [r.recordIndex, r]))
        for (const r of tls[side].records) {
          if (!r.encrypted || r.type !== ContentType.applicationData) continue
          const x = byIndex.get(r.index)
          inner.types.push(x ? x.innerType : null)
          if (x) inner.handshakes.push(...x.handshakeTypes)
        }
      }
      return {
        records: tls[side].records.map((r) => ({ type: r.type, version: r.version, length: r.length })),
        handshakes: tls[side].handshakes.map(normHandshake),
        inner,
      }
    }
    return {
      stream: flow.id,
      client: `${flow.client.addr}:${flow.client.port}`,
      server: `${flow.server.addr}:${flow.server.port}`,
      toServer: dir('client'),
      toClient: dir('server'),
    }
  })
}

/** The decrypted application_data of each direction of a TLS 1.3 flow, concatenated. */
export function applicationPlaintext(f: DissectedFlow): { toServer: Uint8Array; toClient: Uint8Array } | undefined {
  if (!f.decrypted || 'error' in f.decrypted) return undefined
  const join = (d: DecryptedDirection): Uint8Array => Buffer.concat(d.records.filter((r) => r.innerType === ContentType.applicationData).map((r) => r.plaintext))
  return { toServer: join(f.decrypted.client), toClient: join(f.decrypted.server) }
}

// ---------------------------------------------------------------------------------------------
// tshark's side.

/** tshark's -T json output, as parsed. */
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json }
type Obj = { [k: string]: Json }

const isObj = (x: Json | undefined): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x)
/** --no-duplicate-keys turns repeated keys into arrays; this undoes that for iteration. */
const many = (x: Json | undefined): Json[] => (x === undefined ? [] : Array.isArray(x) ? x : [x])
const num = (x: Json | undefined): number => {
  if (typeof x !== 'string' || x === '' || Number.isNaN(Number(x))) throw new Error(`tshark oracle: expected a number, got ${JSON.stringify(x)}`)
  return Number(x)
}

/**
 * Every value of `key` anywhere under `node`, in wire order. With -x each field has a `<key>_raw`
 * = [hex, offset, length, bitmask, type]; sorting by that offset restores the order that
 * --no-duplicate-keys loses when it merges same-named subtrees (e.g. two GREASE extensions).
 */
export function collect(node: Json | undefined, key: string): string[] {
  const found: { v: string; at: number; seq: number }[] = []
  const walk = (n: Json | undefined): void => {
    if (Array.isArray(n)) return n.forEach(walk)
    if (!isObj(n)) return
    for (const [k, v] of Object.entries(n)) {
      if (k === key) {
        const raws = n[`${key}_raw`]
        const vals = many(v)
        const rawList: Json[] = Array.isArray(raws) && Array.isArray(raws[0]) ? raws : raws === undefined ? [] : [raws]
        vals.forEach((x, i) => {
          const raw = rawList[i]
          const at = Array.isArray(raw) && typeof raw[1] === 'number' ? raw[1] : Number.MAX_SAFE_INTEGER
          found.push({ v: String(x), at, seq: found.length })
        })
      } else if (!k.endsWith('_raw')) {
        walk(v)
      }
    }
  }
  walk(node)
  return found.sort((a, b) => a.at - b.at || a.seq - b.seq).map((f) => f.v)
}

const first = (node: Json, key: string): string | undefined => collect(node, key)[0]
const hexOf = (s: string | undefined): string => (s ?? '').replace(/:/g, '').toLowerCase()

function tsharkHandshake(h: Obj): NormHandshake {
  const type = num(h['tls.handshake.type'])
  const n: NormHandshake = { type, length: num(h['tls.handshake.length']) }
  const extensions = collect(h, 'tls.handshake.extension.type').map(Number)
  if (type === 1) {
    const alpn = collect(h, 'tls.handshake.extensions_alpn_str')
    const versions = collect(h, 'tls.handshake.extensions.supported_version').map(Number)
    const hasExt = (t: number): boolean => extensions.includes(t)
    n.clientHello = {
      version: num(h['tls.handshake.version']),
      random: hexOf(first(h, 'tls.handshake.random')),
      cipherSuites: collect(h, 'tls.handshake.ciphersuite').map(Number),
      extensions,
      sni: first(h, 'tls.handshake.extensions_server_name') ?? null,
      alpn: hasExt(16) ? alpn : null,
      supportedVersions: hasExt(43) ? versions : null,
      keyShareGroups: hasExt(51) ? collect(h, 'tls.handshake.extensions_key_share_group').map(Number) : null,
    }
  } else if (type === 2) {
    const random = hexOf(first(h, 'tls.handshake.random'))
    const group = first(h, 'tls.handshake.extensions_key_share_group') ?? first(h, 'tls.handshake.extensions_key_share_selected_group')
    const version = first(h, 'tls.handshake.extensions.supported_version')
    const alpn = first(h, 'tls.handshake.extensions_alpn_str')
    n.serverHello = {
      version: num(h['tls.handshake.version']),
      random,
      cipherSuite: num(h['tls.handshake.ciphersuite']),
      extensions,
      selectedVersion: version === undefined ? null : Number(version),
      keyShareGroup: group === undefined ? null : Number(group),
      alpn: alpn ?? null,
      helloRetryRequest: random === HRR_RANDOM,
    }
  }
  return n
}

const emptyDirection = (): NormDirection => ({ records: [], handshakes: [], inner: { types: [], handshakes: [] } })

/**
 * Normalises `tshark -T json --no-duplicate-keys -x -J "ip tcp tls"` output. `decrypted` says
 * whether tshark had the keylog: then encrypted records show opaque_type (outer) and content_type
 * (inner), and their handshake messages are inner ones.
 */
export function normaliseTshark(packets: Json): NormFlow[] {
  const flows = new Map<number, NormFlow>()
  for (const p of many(packets)) {
    const layers = isObj(p) && isObj(p._source) ? p._source.layers : undefined
    if (!isObj(layers)) continue
    const tcp = many(layers.tcp)[0]
    const ip = many(layers.ip)[0]
    if (!isObj(tcp) || !isObj(ip)) continue
    const stream = num(tcp['tcp.stream'])
    const src = `${ip['ip.src']}:${tcp['tcp.srcport']}`
    const dst = `${ip['ip.dst']}:${tcp['tcp.dstport']}`
    let flow = flows.get(stream)
    if (!flow) {
      // The first packet of a stream decides who is the client, except a SYN-ACK (the SYN was
      // not captured), which comes from the server. tcp.stream numbering is tshark's own.
      const flags = num(tcp['tcp.flags'])
      const synAck = (flags & 0x12) === 0x12
      flow = { stream, client: synAck ? dst : src, server: synAck ? src : dst, toServer: emptyDirection(), toClient: emptyDirection() }
      flows.set(stream, flow)
    }
    const dir = src === flow.client ? flow.toServer : flow.toClient
    for (const tls of many(layers.tls)) {
      if (!isObj(tls)) continue
      for (const rec of many(tls['tls.record'])) {
        if (!isObj(rec)) continue
        const opaque = rec['tls.record.opaque_type']
        const contentType = rec['tls.record.content_type']
        const outer = opaque !== undefined ? num(opaque) : num(contentType)
        dir.records.push({ type: outer, version: num(rec['tls.record.version']), length: num(rec['tls.record.length']) })
        const messages = many(rec['tls.handshake']).filter(isObj).filter((h) => h['tls.handshake.type'] !== undefined)
        if (opaque !== undefined) {
          dir.inner.types.push(contentType === undefined ? null : num(contentType))
          for (const h of messages) dir.inner.handshakes.push(num(h['tls.handshake.type']))
        } else {
          for (const h of messages) dir.handshakes.push(tsharkHandshake(h))
        }
      }
    }
  }
  return [...flows.values()].sort((a, b) => a.stream - b.stream)
}

/** tshark's version line, e.g. "TShark (Wireshark) 4.0.17 (...)". Throws a clear error if missing. */
export function tsharkVersion(): string {
  try {
    return execFileSync('tshark', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]
  } catch {
    throw new Error('tshark is not installed (or not on PATH): run `make deps` (Debian package tshark)')
  }
}

export function tsharkArgs(pcap: string, keylog?: string): string[] {
  const args = ['-r', pcap]
  if (keylog) args.push('-o', `tls.keylog_file:${keylog}`)
  args.push('-T', 'json', '--no-duplicate-keys', '-x', '-J', 'ip tcp tls')
  return args
}

export function runTshark(args: string[]): string {
  tsharkVersion()
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] })
}

/**
 * tshark's view: records and plaintext handshakes from a run without the keylog (so they are what
 * is visible on the wire, as our dissector sees it), inner types from a run with it.
 */
export function tsharkView(pcap: string, keylog?: string): NormFlow[] {
  const outer = normaliseTshark(JSON.parse(runTshark(tsharkArgs(pcap))) as Json)
  if (!keylog || !existsSync(keylog)) return outer
  const inner = normaliseTshark(JSON.parse(runTshark(tsharkArgs(pcap, keylog))) as Json)
  for (const f of outer) {
    const g = inner.find((x) => x.stream === f.stream)
    if (!g) continue
    f.toServer.inner = g.toServer.inner
    f.toClient.inner = g.toClient.inner
  }
  return outer
}

/** `tshark -q -z follow,tcp,raw,N`: the two directions' bytes, as tshark reassembled them. */
export function tsharkFollow(pcap: string, kind: 'tcp' | 'tls', stream: number, keylog?: string): { node0: string; node1: string; first: Uint8Array; second: Uint8Array } {
  const args = ['-r', pcap]
  if (keylog) args.push('-o', `tls.keylog_file:${keylog}`)
  args.push('-q', '-z', `follow,${kind},raw,${stream}`)
  const text = runTshark(args)
  const node = (i: number): string => /Node (\d): (.*)/g.exec(text.split('\n').find((l) => l.startsWith(`Node ${i}:`)) ?? '')?.[2] ?? ''
  const body = text.split('\n').filter((l) => /^\t?[0-9a-f]+$/.test(l))
  // Lines from node 0 start at column 0, lines from node 1 are tab-indented.
  const first = Buffer.from(body.filter((l) => !l.startsWith('\t')).join(''), 'hex')
  const second = Buffer.from(body.filter((l) => l.startsWith('\t')).map((l) => l.slice(1)).join(''), 'hex')
  return { node0: node(0), node1: node(1), first, second }
}

export function loadOracle(path: string): OracleFile {
  return JSON.parse(readFileSync(path, 'utf8')) as OracleFile
}

// ---------------------------------------------------------------------------------------------
// Comparison.

export interface Difference {
  flow: number
  dir?: Dir
  /** Row index in the list named by `field`. */
  index?: number
  field: string
  ours: unknown
  tshark: unknown
}

export function formatDifference(d: Difference): string {
  const where = [`flow ${d.flow}`, d.dir, d.index === undefined ? undefined : `#${d.index}`].filter(Boolean).join(' ')
  return `${where} ${d.field}: ours ${JSON.stringify(d.ours)} vs tshark ${JSON.stringify(d.tshark)}`
}

function diffValue(out: Difference[], base: Omit<Difference, 'ours' | 'tshark' | 'field'>, field: string, a: unknown, b: unknown): void {
  if (isPlain(a) && isPlain(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diffValue(out, base, `${field}.${k}`, a[k], b[k])
    return
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ ...base, field, ours: a ?? null, tshark: b ?? null })
}
const isPlain = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

function diffList<T>(out: Difference[], flow: number, dir: Dir, field: string, ours: T[], theirs: T[]): void {
  if (ours.length !== theirs.length) out.push({ flow, dir, field: `${field}.count`, ours: ours.length, tshark: theirs.length })
  const n = Math.min(ours.length, theirs.length)
  for (let i = 0; i < n; i++) diffValue(out, { flow, dir, index: i }, field, ours[i], theirs[i])
}

/**
 * Field-by-field differences between two normalised views. `inner` is compared only where the
 * reference has decrypted something (the committed oracle always has, a keyless run has not).
 */
export function compareViews(ours: NormFlow[], theirs: NormFlow[]): Difference[] {
  const out: Difference[] = []
  if (ours.length !== theirs.length) out.push({ flow: -1, field: 'flows.count', ours: ours.length, tshark: theirs.length })
  for (const t of theirs) {
    const o = ours.find((f) => f.stream === t.stream)
    if (!o) {
      out.push({ flow: t.stream, field: 'flow', ours: null, tshark: `${t.client} -> ${t.server}` })
      continue
    }
    diffValue(out, { flow: t.stream }, 'client', o.client, t.client)
    diffValue(out, { flow: t.stream }, 'server', o.server, t.server)
    for (const dir of DIRS) {
      diffList(out, t.stream, dir, 'records', o[dir].records, t[dir].records)
      diffList(out, t.stream, dir, 'handshakes', o[dir].handshakes, t[dir].handshakes)
      if (t[dir].inner.types.some((x) => x !== null)) {
        diffList(out, t.stream, dir, 'inner.types', o[dir].inner.types, t[dir].inner.types)
        diffList(out, t.stream, dir, 'inner.handshakes', o[dir].inner.handshakes, t[dir].inner.handshakes)
      }
    }
  }
  return out
}

/** Convenience for hex dumps in messages. */
export const hex = (b: Uint8Array, max = 32): string => toHex(b.subarray(0, max)) + (b.length > max ? '…' : '')

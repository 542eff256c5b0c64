// `sultry replay`: dissects a capture file the way the lab sees it — TCP flows reassembled, TLS
// records and handshake messages per direction, the ClientHello's SNI/ALPN/suites/extensions and
// how many segments and records it was cut into — and, with a key log, the decrypted TLS 1.3
// records. The same code path as the capture oracle (captures/oracle.ts), so what it prints is
// what `make lab` compares against tshark.

import { existsSync, readFileSync } from 'node:fs'
import { WireError } from '../wire/bytes.js'
import { alertDescriptionName } from '../wire/tls/alert.js'
import type { DirectionDissection, HandshakeSummary } from '../wire/tls/dissect.js'
import { ExtensionType } from '../wire/tls/extensions.js'
import { NamedGroup } from '../wire/tls/extension-data.js'
import { isGrease } from '../wire/tls/grease.js'
import { HandshakeType } from '../wire/tls/handshake.js'
import { ContentType } from '../wire/tls/record.js'
import type { DirectionStream } from '../wire/pcap/tcp-reassembly.js'
import type { DecryptedDirection } from '../crypto/tls13/conversation.js'
import { type DissectedCapture, type DissectedFlow, dissectCapture, handshakeSpan } from '../../captures/oracle.js'
import type { Command, CommandSpec, ParsedArgs } from './args.js'

const spec: CommandSpec = {
  name: 'replay',
  summary: 'dissect a pcap/pcapng: flows, TLS records, handshakes, SNI, ALPN; decrypt TLS 1.3 with a keylog',
  usage: 'sultry replay FILE [--keylog F] [--flow N] [--json]',
  flags: [
    { name: 'keylog', type: 'string', value: 'F', help: 'SSLKEYLOGFILE to decrypt TLS 1.3 with (default: FILE.keylog, else X.keylog for X.pcap, if present)' },
    { name: 'no-keylog', type: 'bool', help: 'do not look for a key log beside FILE' },
    { name: 'flow', type: 'int', value: 'N', help: 'only flow N (numbered as tshark numbers tcp.stream)' },
    { name: 'json', type: 'bool', help: 'print the whole dissection as JSON instead of text' },
  ],
  details: `
FILE is a classic pcap (µs or ns) or pcapng. TCP flows are reassembled per direction and dissected as
TLS; for each ClientHello sultry says how many TCP segments and TLS records carried it. With a key
log (found beside FILE as FILE.keylog or X.keylog for X.pcap, or given by --keylog), TLS 1.3 flows
are decrypted and each record's inner type and first plaintext bytes are shown.

Examples:
  sultry replay captures/chromium-netns.pcap
  sultry replay captures/openssl-tls13.pcap --flow 0 --json

Exit codes: 0 dissected (dissection errors inside flows are reported, not fatal), 1 the file could
not be read or is not a capture, 2 bad usage.`,
}

// Display names; values the tables lack print as hex.
const invert = (o: Record<string, number>): Map<number, string> => new Map(Object.entries(o).map(([k, v]) => [v, k]))
const contentTypes = invert(ContentType)
const handshakeTypes = invert(HandshakeType)
const extensionTypes = invert(ExtensionType)
const groups = invert(NamedGroup)
/** IANA TLS Cipher Suites registry names for the suites our captures meet. */
const cipherSuites = new Map<number, string>([
  [0x1301, 'TLS_AES_128_GCM_SHA256'],
  [0x1302, 'TLS_AES_256_GCM_SHA384'],
  [0x1303, 'TLS_CHACHA20_POLY1305_SHA256'],
  [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
  [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
  [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
  [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
  [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0x00ff, 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV'],
])
const versions = new Map<number, string>([
  [0x0300, 'SSL 3.0'],
  [0x0301, 'TLS 1.0'],
  [0x0302, 'TLS 1.1'],
  [0x0303, 'TLS 1.2'],
  [0x0304, 'TLS 1.3'],
])

const h16 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`
const named = (table: Map<number, string>, v: number): string => (isGrease(v) ? `GREASE(${h16(v)})` : (table.get(v) ?? h16(v)))
const typeName = (table: Map<number, string>, v: number): string => `${table.get(v) ?? 'unknown'}(${v})`

/** First bytes as hex plus their printable ASCII. */
function peek(b: Uint8Array, n = 24): string {
  const s = b.subarray(0, n)
  const ascii = Array.from(s, (c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.')).join('')
  return `${Buffer.from(s).toString('hex')}${b.length > n ? '…' : ''}  |${ascii}|`
}

function defaultKeylog(file: string): string | undefined {
  const candidates = [`${file}.keylog`, file.replace(/\.(pcapng|pcap)$/, '') + '.keylog']
  return candidates.find((c) => c !== file && existsSync(c))
}

function describeHandshake(h: HandshakeSummary, stream: DirectionStream, d: DirectionDissection, out: string[]): void {
  const span = h.firstRecord === h.lastRecord ? `record #${h.firstRecord}` : `records #${h.firstRecord}..#${h.lastRecord}`
  out.push(`    ${typeName(handshakeTypes, h.type)} length ${h.length} in ${span}`)
  const c = h.clientHello
  if (c) {
    const s = handshakeSpan(stream, d.records, h)
    out.push(`      spans ${s.segments} TCP segment(s) and ${s.records} TLS record(s)${s.segments > 1 || s.records > 1 ? ' (split)' : ''}`)
    out.push(`      SNI: ${c.sni ?? '(none)'}`)
    out.push(`      ALPN: ${c.alpn ? c.alpn.join(', ') : '(none)'}`)
    out.push(`      legacy_version ${h16(c.version)}; supported_versions: ${c.supportedVersions ? c.supportedVersions.map((v) => named(versions, v)).join(', ') : '(none)'}`)
    out.push(`      cipher suites: ${c.cipherSuites.map((v) => named(cipherSuites, v)).join(', ')}`)
    out.push(`      extensions (${c.extensions.length}): ${c.extensions.map((e) => named(extensionTypes, e.type)).join(', ')}`)
    out.push(`      key share groups: ${c.keyShareGroups ? c.keyShareGroups.map((g) => named(groups, g)).join(', ') : '(none)'}`)
    if (c.hasPreSharedKey) out.push('      offers a pre_shared_key (resumption)')
  }
  const s = h.serverHello
  if (s) {
    out.push(`      ${s.helloRetryRequest ? 'HelloRetryRequest' : 'ServerHello'}: cipher suite ${named(cipherSuites, s.cipherSuite)}, ` +
      `version ${named(versions, s.selectedVersion ?? s.version)}${s.selectedVersion !== undefined ? ' (supported_versions)' : ''}` +
      `${s.keyShareGroup !== undefined ? `, key share ${named(groups, s.keyShareGroup)}` : ''}${s.alpn !== undefined ? `, ALPN ${s.alpn}` : ''}`)
    out.push(`      extensions: ${s.extensions.map((e) => named(extensionTypes, e.type)).join(', ') || '(none)'}`)
  }
}

function describeDirection(label: string, stream: DirectionStream, d: DirectionDissection, dec: DecryptedDirection | undefined, out: string[]): void {
  out.push(`  ${label}: ${stream.bytes.length} bytes in ${stream.chunks.length} segment(s)${stream.fin ? ', FIN' : ''}${stream.rst ? ', RST' : ''}` +
    `${stream.gaps.length ? `, ${stream.gaps.length} gap(s) at ${stream.gaps.map((g) => `${g.at} (+${g.length})`).join(', ')}` : ''}`)
  out.push(`    ${d.records.length} TLS record(s):`)
  const decrypted = new Map((dec?.records ?? []).map((r) => [r.recordIndex, r]))
  for (const r of d.records) {
    const alert = r.alert ? ` alert ${r.alert.level === 2 ? 'fatal' : 'warning'} ${alertDescriptionName(r.alert.description) ?? r.alert.description}` : ''
    out.push(`      #${r.index} @${r.offset} ${typeName(contentTypes, r.type)} ${h16(r.version)} length ${r.length}${r.encrypted ? ' encrypted' : ''}${alert}`)
    const x = decrypted.get(r.index)
    if (x) {
      const hs = x.handshakeTypes.length ? ` [${x.handshakeTypes.map((t) => typeName(handshakeTypes, t)).join(', ')}]` : ''
      out.push(`         decrypted (${x.epoch} keys, seq ${x.sequenceNumber}): inner ${typeName(contentTypes, x.innerType)}${hs}, ${x.plaintext.length} bytes: ${peek(x.plaintext)}`)
    }
  }
  if (dec?.error) out.push(`    decryption stopped at record #${dec.error.recordIndex}: ${dec.error.code}: ${dec.error.message}`)
  out.push(`    ${d.handshakes.length} plaintext handshake message(s):`)
  for (const h of d.handshakes) describeHandshake(h, stream, d, out)
  if (d.error) out.push(`    ERROR at stream offset ${d.error.offset}: ${d.error.code}: ${d.error.message}`)
}

function describeFlow(f: DissectedFlow, out: string[]): void {
  const { flow, tls } = f
  out.push(`flow ${flow.id}: ${flow.client.addr}:${flow.client.port} -> ${flow.server.addr}:${flow.server.port}` +
    `  (client->server ${flow.toServer.bytes.length} bytes, server->client ${flow.toClient.bytes.length} bytes)`)
  const dec = f.decrypted && !('error' in f.decrypted) ? f.decrypted : undefined
  if (f.decrypted && 'error' in f.decrypted) out.push(`  not decrypted: ${f.decrypted.error}`)
  describeDirection('client -> server', flow.toServer, tls.client, dec?.client, out)
  describeDirection('server -> client', flow.toClient, tls.server, dec?.server, out)
}

function toJson(file: string, keylog: string | undefined, d: DissectedCapture): string {
  return JSON.stringify(
    {
      file,
      keylog: keylog ?? null,
      format: d.format,
      packets: d.packets,
      captureError: d.captureError ?? null,
      flows: d.flows.map((f) => ({
        id: f.flow.id,
        client: f.flow.client,
        server: f.flow.server,
        toServer: { bytes: f.flow.toServer.bytes.length, segments: f.flow.toServer.chunks.length, fin: f.flow.toServer.fin, rst: f.flow.toServer.rst, gaps: f.flow.toServer.gaps },
        toClient: { bytes: f.flow.toClient.bytes.length, segments: f.flow.toClient.chunks.length, fin: f.flow.toClient.fin, rst: f.flow.toClient.rst, gaps: f.flow.toClient.gaps },
        tls: {
          client: { ...f.tls.client, handshakes: f.tls.client.handshakes.map((h) => (h.clientHello ? { ...h, span: handshakeSpan(f.flow.toServer, f.tls.client.records, h) } : h)) },
          server: f.tls.server,
        },
        decrypted: f.decrypted ?? null,
      })),
    },
    (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v),
    1,
  )
}

function fail(message: string): number {
  process.stderr.write(`sultry replay: ${message}\n`)
  return 1
}

async function run(args: ParsedArgs): Promise<number> {
  const { UsageError } = await import('./args.js')
  if (args.positionals.length !== 1) throw new UsageError('expects exactly one capture FILE (see: sultry replay --help)')
  const file = args.positionals[0]
  let bytes: Uint8Array
  try {
    bytes = readFileSync(file)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return fail(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read (${code ?? String(e)})`)
  }
  const keylogFlag = args.flags.keylog as string | undefined
  const keylogPath = keylogFlag ?? (args.flags['no-keylog'] ? undefined : defaultKeylog(file))
  let keylogText: string | undefined
  if (keylogPath !== undefined) {
    try {
      keylogText = readFileSync(keylogPath, 'utf8')
    } catch (e) {
      return fail(`key log ${keylogPath}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(e)}`)
    }
  }
  let d: DissectedCapture
  try {
    d = dissectCapture(bytes, keylogText)
  } catch (e) {
    if (!(e instanceof WireError)) throw e
    const what = keylogText !== undefined && /keylog/.test(e.message) ? `key log ${keylogPath}` : `${file}: not a readable capture`
    return fail(`${what}: ${e.code}: ${e.message}`)
  }
  const only = args.flags.flow as number | undefined
  if (only !== undefined) {
    const f = d.flows.filter((x) => x.flow.id === only)
    if (f.length === 0) return fail(`${file}: no flow ${only} (flows: ${d.flows.map((x) => x.flow.id).join(', ') || 'none'})`)
    d = { ...d, flows: f }
  }
  if (args.flags.json) {
    process.stdout.write(toJson(file, keylogPath, d) + '\n')
    return 0
  }
  const out: string[] = [`${file}: ${d.format}, ${d.packets} packet(s), ${d.flows.length} TCP flow(s)${keylogPath ? `, key log ${keylogPath}` : ', no key log'}`]
  if (d.captureError) out.push(`WARNING: capture file cut short or malformed: ${d.captureError} (showing the packets before it)`)
  for (const f of d.flows) {
    out.push('')
    describeFlow(f, out)
  }
  process.stdout.write(out.join('\n') + '\n')
  return 0
}

const command: Command = { spec, run }
export default command

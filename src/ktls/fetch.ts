// `sultry fetch` as a library: one HTTPS GET over HTTP/1.1 (Content-Length, chunked, or to EOF),
// optional redirects, the body to memory or a file with its SHA-256, and an honest kTLS report.
//
// This is the live client: it uses node:net/node:tls directly because kTLS needs the kernel
// socket's fd, which a World Conn does not have. The kTLS decision follows notes §9.2: on 'connect'
// try setsockopt(TCP_ULP, "tls") through the addon; if the kernel has it, handshake over the
// record-exact pump and hand the keys over (handover.ts). Any failure keeps node:tls in charge
// (auto) or fails (require), and the report carries the errno the kernel returned.

import { createHash } from 'node:crypto'
import { appendFileSync, createWriteStream, type WriteStream } from 'node:fs'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import tls from 'node:tls'
import { concatBytes, isTruncated, WireError } from '../wire/bytes.js'
import { encodeRequestHead, parseResponseHead, type HeaderField, type ResponseHead } from '../wire/http/index.js'
import { ChunkedDecoder } from './chunked.js'
import { fallbackReason } from './fallback-reason.js'
import { handOver, HalfConfiguredError, type Handover, type KtlsIo } from './handover.js'
import { loadAddon, type KtlsAddon } from './native.js'
import { kernelOffer, offeredRange, probeOnce } from './offer.js'

export type KtlsMode = 'auto' | 'require' | 'off'

/** Set from setsockopt return codes only: `tx`/`rx` are true only if the kernel accepted the keys. */
export type KtlsReport = { tx: boolean; rx: boolean; cipher: string; io: KtlsIo; ioNote?: string } | { off: string }

export interface FetchOptions {
  /** PEM CA certificate(s) to trust instead of Node's bundled roots. */
  ca?: string | Buffer
  /** Skip certificate verification (lab use only). */
  insecure?: boolean
  ktls?: KtlsMode
  /**
   * The data path of a handed-over socket: 'plain' (recvmsg/sendmsg on libuv readiness) or 'uring'
   * (io_uring; falls back to plain with the reason if the ring cannot be set up). Default: the
   * SULTRY_KTLS_IO environment variable, else plain.
   */
  io?: KtlsIo
  /** Append NSS key log lines (SSLKEYLOGFILE format) to this file. */
  sslkeylog?: string
  /** Write the final response body here instead of keeping it in memory. */
  output?: string
  /** Hand each body chunk to the caller instead of keeping it (ignored with `output`). */
  onBody?: (chunk: Uint8Array) => void
  /** Follow 301/302/303/307/308 (true = up to 10 hops, or a number). */
  followRedirects?: boolean | number
  onProgress?: (received: number, total: number | undefined) => void
  /** Diagnostics for the kernel path: handover and syscall results, one line each, no secrets. */
  trace?: (line: string) => void
}

export interface FetchResponse {
  url: string
  status: number
  reason: string
  headers: HeaderField[]
  /** The body, unless `output` or `onBody` was given. */
  body?: Uint8Array
  /** Body bytes received (and written, with `output`). */
  bytes: number
  sha256: string
  ktls: KtlsReport
  protocol: string | null
  cipher: string
  /** URLs of the redirects followed, in order. */
  redirects: string[]
}

/** The transfer failed: connect, TLS, a malformed or truncated response. */
export class FetchError extends Error {
  override readonly name = 'FetchError'
}

/** `ktls: 'require'` and the kernel could not take the connection. */
export class KtlsUnavailableError extends Error {
  override readonly name = 'KtlsUnavailableError'
  constructor(readonly reason: string) {
    super(`kTLS required but unavailable: ${reason}`)
  }
}

export function formatKtls(r: KtlsReport): string {
  if ('off' in r) return `ktls: off (${r.off})`
  return `ktls: tx=${r.tx ? 'on' : 'off'} rx=${r.rx ? 'on' : 'off'} cipher=${r.cipher} io=${r.io}${r.ioNote ? ` (${r.ioNote})` : ''}`
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

export async function fetch(url: string, opts: FetchOptions = {}): Promise<FetchResponse> {
  const io = opts.io ?? process.env.SULTRY_KTLS_IO ?? 'plain'
  if (io !== 'plain' && io !== 'uring') throw new FetchError(`the kTLS data path must be plain or uring, got "${io}" (SULTRY_KTLS_IO)`)
  opts = { ...opts, io }
  const max = opts.followRedirects === true ? 10 : typeof opts.followRedirects === 'number' ? opts.followRedirects : 0
  const redirects: string[] = []
  let current = parseUrl(url)
  for (;;) {
    const conn = await connect(current, opts)
    try {
      const res = await exchange(conn.stream, current, opts, redirects.length < max)
      const location = res.head.get('location')
      if (res.redirect && location !== undefined) {
        redirects.push(current.href)
        current = parseUrl(new URL(location, current).href)
        continue
      }
      return {
        url: current.href,
        status: res.head.status,
        reason: res.head.reason,
        headers: res.head.headers,
        body: res.body,
        bytes: res.bytes,
        sha256: res.sha256,
        ktls: conn.ktls,
        protocol: conn.protocol,
        cipher: conn.cipher,
        redirects,
      }
    } finally {
      conn.stream.destroy()
    }
  }
}

function parseUrl(s: string): URL {
  let u: URL
  try {
    u = new URL(s)
  } catch {
    throw new FetchError(`not a URL: ${s}`)
  }
  if (u.protocol !== 'https:') throw new FetchError(`only https:// URLs are supported, got ${u.protocol}`)
  return u
}

interface Connection {
  stream: Duplex
  ktls: KtlsReport
  protocol: string | null
  cipher: string
}

async function connect(u: URL, opts: FetchOptions): Promise<Connection> {
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1')
  const port = Number(u.port || 443)
  const where = `${host}:${port}`
  const raw = net.connect({ host, port })
  await new Promise<void>((resolve, reject) => {
    raw.once('connect', resolve)
    raw.once('error', (e: NodeJS.ErrnoException) => reject(new FetchError(`connect ${where}: ${e.code ?? e.message}`)))
  })
  const mode = opts.ktls ?? 'auto'
  const tlsOptions: tls.ConnectionOptions = {
    host,
    servername: net.isIP(host) ? undefined : host,
    ca: opts.ca,
    rejectUnauthorized: !opts.insecure,
    minVersion: 'TLSv1.2',
    ALPNProtocols: ['http/1.1'],
  }
  const file = opts.sslkeylog
  const keylogSink = file ? (line: Buffer) => appendFileSync(file, line, { mode: 0o600 }) : undefined
  const tlsFailed = (e: unknown) => (e instanceof Error ? new FetchError(`TLS with ${where}: ${e.message}`) : e)

  const ulp = mode === 'off' ? { reason: 'disabled with --ktls off' } : attachUlp(raw)
  if ('reason' in ulp) {
    if (mode === 'require') {
      raw.destroy()
      throw new KtlsUnavailableError(ulp.reason)
    }
    return userspaceTls(raw, tlsOptions, ulp.reason, keylogSink, tlsFailed)
  }

  // Only the suites the kernel accepted in the probe are offered, so the server cannot choose one
  // it would refuse after the handshake. None at all: require fails now; auto goes to node:tls.
  const offer = kernelOffer(probeOnce(ulp.addon), ...offeredRange(tlsOptions))
  if ('none' in offer) {
    if (mode === 'require') {
      raw.destroy()
      throw new KtlsUnavailableError(offer.none)
    }
    return userspaceTls(raw, tlsOptions, offer.none, keylogSink, tlsFailed)
  }

  let h: Handover
  try {
    h = await handOver(raw, ulp.fd, ulp.addon, tlsOptions, { keylogSink, trace: opts.trace, offer, io: opts.io })
  } catch (e) {
    raw.destroy()
    throw e instanceof HalfConfiguredError ? new FetchError(e.message) : tlsFailed(e)
  }
  if (!h.kernel) {
    if (mode === 'require') {
      h.stream.destroy()
      throw new KtlsUnavailableError(h.reason)
    }
    return { stream: h.stream, ktls: { off: h.reason }, protocol: h.protocol, cipher: h.cipher }
  }
  return { stream: h.stream, ktls: { tx: true, rx: true, cipher: h.cipher, io: h.io, ioNote: h.ioNote }, protocol: h.protocol, cipher: h.cipher }
}

/** Node's own TLS on the socket, with the normal suite list: the fast userspace path (notes §8). */
async function userspaceTls(raw: net.Socket, tlsOptions: tls.ConnectionOptions, reason: string, keylogSink: ((line: Buffer) => void) | undefined, tlsFailed: (e: unknown) => unknown): Promise<Connection> {
  const t = tls.connect({ ...tlsOptions, socket: raw })
  if (keylogSink) t.on('keylog', keylogSink)
  await new Promise<void>((resolve, reject) => {
    t.once('secureConnect', resolve)
    t.once('error', (e: Error) => reject(tlsFailed(e)))
  })
  // Read now: once the peer closes, getCipher() returns null.
  return { stream: t, ktls: { off: reason }, protocol: t.getProtocol(), cipher: t.getCipher().name }
}

/** setsockopt(TCP_ULP, "tls") on the connected socket through the addon; any failure is a reason. */
function attachUlp(raw: net.Socket): { addon: KtlsAddon; fd: number } | { reason: string } {
  const load = loadAddon()
  if (!load.ok) return { reason: load.reason }
  const fd = (raw as unknown as { _handle?: { fd?: number } })._handle?.fd
  if (typeof fd !== 'number' || fd < 0) return { reason: 'no kernel socket fd on this platform' }
  const errno = load.addon.setUlp(fd)
  return errno === 0 ? { addon: load.addon, fd } : { reason: fallbackReason('ulp', errno) }
}

type Framing = { kind: 'none' } | { kind: 'length'; remaining: number } | { kind: 'chunked'; decoder: ChunkedDecoder } | { kind: 'eof' }

function framingOf(head: ResponseHead): Framing {
  if ((head.status >= 100 && head.status < 200) || head.status === 204 || head.status === 304) return { kind: 'none' }
  const te = head.get('transfer-encoding')
  if (te !== undefined) {
    // RFC 9112 §6.3: chunked must be the final coding; anything else is read until close.
    return /(^|,)\s*chunked\s*$/i.test(te) ? { kind: 'chunked', decoder: new ChunkedDecoder() } : { kind: 'eof' }
  }
  const cl = head.get('content-length')
  return cl === undefined ? { kind: 'eof' } : { kind: 'length', remaining: Number(cl.split(',')[0].trim()) }
}

class BodySink {
  private readonly hash = createHash('sha256')
  private readonly chunks: Uint8Array[] = []
  private readonly file?: WriteStream
  private fileError?: Error
  bytes = 0

  constructor(
    output: string | undefined,
    private readonly onBody?: (chunk: Uint8Array) => void,
  ) {
    if (output) {
      this.file = createWriteStream(output)
      this.file.on('error', (e) => (this.fileError = e))
    }
  }

  async write(b: Uint8Array): Promise<void> {
    if (b.length === 0) return
    this.bytes += b.length
    this.hash.update(b)
    if (!this.file) {
      if (this.onBody) this.onBody(b)
      else this.chunks.push(Uint8Array.from(b))
      return
    }
    if (this.fileError) throw new FetchError(`writing the body: ${this.fileError.message}`)
    const f = this.file
    if (!f.write(b)) {
      await new Promise<void>((r) => {
        const done = () => {
          f.off('drain', done).off('close', done)
          r()
        }
        f.on('drain', done).on('close', done)
      })
    }
  }

  async finish(): Promise<{ body?: Uint8Array; sha256: string }> {
    if (this.file) await new Promise<void>((r) => this.file!.end(() => r()))
    if (this.fileError) throw new FetchError(`writing the body: ${this.fileError.message}`)
    return { body: this.file || this.onBody ? undefined : concatBytes(...this.chunks), sha256: this.hash.digest('hex') }
  }
}

async function exchange(t: Duplex, u: URL, opts: FetchOptions, mayRedirect: boolean) {
  t.write(encodeRequestHead({
    method: 'GET',
    target: (u.pathname || '/') + u.search,
    version: 'HTTP/1.1',
    headers: [['Host', u.host], ['User-Agent', 'sultry-fetch'], ['Accept', '*/*'], ['Connection', 'close']],
  }))
  let pending: Uint8Array = new Uint8Array(0)
  let head: ResponseHead | undefined
  let framing: Framing = { kind: 'eof' }
  let sink: BodySink | undefined
  let redirect = false
  let total: number | undefined
  let complete = false
  try {
    for await (const chunk of t as AsyncIterable<Buffer>) {
      let body: Uint8Array = chunk
      while (!head) {
        pending = pending.length ? concatBytes(pending, body) : new Uint8Array(body)
        let parsed
        try {
          parsed = parseResponseHead(pending)
        } catch (e) {
          if (isTruncated(e)) break
          throw e instanceof WireError ? new FetchError(`malformed response head: ${e.message}`) : e
        }
        body = pending.subarray(parsed.used)
        pending = new Uint8Array(0)
        // Interim 1xx responses (other than 101) precede the real one (RFC 9110 §15.2).
        if (parsed.head.status >= 100 && parsed.head.status < 200 && parsed.head.status !== 101) continue
        head = parsed.head
        framing = framingOf(head)
        redirect = mayRedirect && REDIRECTS.has(head.status) && head.get('location') !== undefined
        if (redirect) return { head, redirect, bytes: 0, sha256: '' }
        sink = new BodySink(opts.output, opts.onBody)
        total = framing.kind === 'length' ? framing.remaining : undefined
        if (framing.kind === 'none' || (framing.kind === 'length' && framing.remaining === 0)) complete = true
      }
      if (!head || !sink) continue
      if (!complete) complete = await feed(framing, body, sink)
      opts.onProgress?.(sink.bytes, total)
      if (complete) break
    }
  } catch (e) {
    if (e instanceof FetchError) throw e
    if (e instanceof WireError) throw new FetchError(`malformed chunked body: ${e.message}`)
    throw new FetchError(`transfer failed: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (!head || !sink) throw new FetchError('connection closed before a complete response head')
  if (!complete && framing.kind === 'length') throw new FetchError(`body truncated: got ${sink.bytes} of ${total} bytes`)
  if (!complete && framing.kind === 'chunked') throw new FetchError(`chunked body truncated after ${sink.bytes} bytes`)
  const { body, sha256 } = await sink.finish()
  return { head, redirect, body, bytes: sink.bytes, sha256 }
}

/** Feeds body bytes through the framing; true when the body is complete. */
async function feed(framing: Framing, data: Uint8Array, sink: BodySink): Promise<boolean> {
  switch (framing.kind) {
    case 'none':
      return true
    case 'eof':
      await sink.write(data)
      return false
    case 'length': {
      const take = data.subarray(0, framing.remaining)
      framing.remaining -= take.length
      await sink.write(take)
      return framing.remaining === 0
    }
    case 'chunked':
      for (const part of framing.decoder.push(data)) await sink.write(part)
      return framing.decoder.done
  }
}

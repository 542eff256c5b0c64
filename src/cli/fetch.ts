// `sultry fetch URL`: HTTPS GET with the kTLS attempt reported honestly. Thin: the work is in src/ktls/fetch.ts.

import { readFileSync } from 'node:fs'
import { UsageError, type Command, type CommandSpec } from './args.js'
import { FetchError, KtlsUnavailableError, fetch, formatKtls, type KtlsMode } from '../ktls/fetch.js'

const EXIT_OK = 0
const EXIT_FAILED = 1
const EXIT_KTLS_REQUIRED = 3

const spec: CommandSpec = {
  name: 'fetch',
  summary: 'HTTPS GET whose TLS records go to the Linux kernel (kTLS) when it can, with an honest fallback',
  usage: 'sultry fetch URL [-o FILE] [--ca FILE | --insecure] [--ktls auto|require|off] [--io plain|uring] [--sslkeylog FILE] [--location]',
  flags: [
    { name: 'output', short: 'o', type: 'string', value: 'FILE', help: 'write the body to FILE (stderr gets its sha256 and size) instead of stdout' },
    { name: 'ca', type: 'string', value: 'FILE', help: 'trust the PEM CA certificate(s) in FILE instead of the bundled roots' },
    { name: 'insecure', short: 'k', type: 'bool', help: 'do not verify the server certificate (lab use)' },
    { name: 'ktls', type: 'string', value: 'MODE', help: 'auto: use kTLS if the kernel takes it, else node:tls; require: fail without it; off: never try', default: 'auto' },
    { name: 'io', type: 'string', value: 'PATH', help: 'data path after the handover: plain (recvmsg/sendmsg on libuv readiness) or uring (io_uring; falls back to plain and says why). Default: $SULTRY_KTLS_IO or plain' },
    { name: 'sslkeylog', type: 'string', value: 'FILE', help: 'append TLS secrets to FILE in NSS key log format (for Wireshark)' },
    { name: 'location', short: 'L', type: 'bool', help: 'follow redirects (up to 10)' },
  ],
  details: `The first stderr line says what happened to kTLS, from the kernel's own return codes, e.g.
  ktls: tx=on rx=on cipher=TLS_AES_128_GCM_SHA256 io=plain
  ktls: off (ENOENT: the kernel has no tls ULP; try modprobe tls)

Exit codes:
  0  the response arrived completely with a 2xx status
  1  HTTP or transport failure (connect, TLS, malformed or truncated response, non-2xx status)
  2  usage error
  3  --ktls require and the kernel could not take the connection`,
}

function progressBar(): (received: number, total: number | undefined) => void {
  if (!process.stderr.isTTY) return () => {}
  const started = Date.now()
  let last = 0
  return (received, total) => {
    const now = Date.now()
    const big = (total ?? received) >= 1 << 20
    if (!big || (now - last < 100 && received !== total)) return
    last = now
    const mb = (n: number) => (n / 1e6).toFixed(1)
    const rate = received / Math.max(1, now - started) / 1000
    const line = total
      ? `[${'#'.repeat(Math.floor((received / total) * 30)).padEnd(30, '-')}] ${Math.floor((received / total) * 100)}% ${mb(received)}/${mb(total)} MB`
      : `${mb(received)} MB`
    process.stderr.write(`\r${line} ${rate.toFixed(1)} MB/s\x1b[K`)
  }
}

const command: Command = {
  spec,
  async run(args) {
    const [url, ...extra] = args.positionals
    if (!url || extra.length) throw new UsageError('expects exactly one URL')
    const mode = args.flags.ktls as string
    if (mode !== 'auto' && mode !== 'require' && mode !== 'off') throw new UsageError(`--ktls must be auto, require or off, got "${mode}"`)
    const io = args.flags.io
    if (io !== undefined && io !== 'plain' && io !== 'uring') throw new UsageError(`--io must be plain or uring, got "${String(io)}"`)
    if (args.flags.ca && args.flags.insecure) throw new UsageError('--ca and --insecure exclude each other')
    let ca: Buffer | undefined
    if (typeof args.flags.ca === 'string') {
      try {
        ca = readFileSync(args.flags.ca)
      } catch (e) {
        throw new UsageError(`--ca ${args.flags.ca}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
      }
    }
    const output = typeof args.flags.output === 'string' ? args.flags.output : undefined
    const bar = progressBar()
    try {
      const res = await fetch(url, {
        ca,
        insecure: args.flags.insecure === true,
        ktls: mode as KtlsMode,
        io: io as 'plain' | 'uring' | undefined,
        sslkeylog: typeof args.flags.sslkeylog === 'string' ? args.flags.sslkeylog : undefined,
        output,
        followRedirects: args.flags.location === true,
        onProgress: bar,
        // SULTRY_KTLS_TRACE=1: kernel-path diagnostics on stderr (syscall results, never key material).
        trace: process.env.SULTRY_KTLS_TRACE ? (l) => process.stderr.write(`trace: ${l}\n`) : undefined,
      })
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K')
      process.stderr.write(`${formatKtls(res.ktls)}\n`)
      process.stderr.write(`${res.protocol} ${res.cipher}; HTTP ${res.status} ${res.reason}\n`)
      if (output) process.stderr.write(`sha256 ${res.sha256}  ${res.bytes} bytes  ${output}\n`)
      else await new Promise<void>((r, j) => process.stdout.write(res.body!, (e) => (e ? j(e) : r())))
      return res.status >= 200 && res.status < 300 ? EXIT_OK : EXIT_FAILED
    } catch (e) {
      if (e instanceof KtlsUnavailableError) {
        process.stderr.write(`ktls: off (${e.reason})\nsultry fetch: --ktls require: the kernel could not take the connection\n`)
        return EXIT_KTLS_REQUIRED
      }
      if (e instanceof FetchError) {
        process.stderr.write(`sultry fetch: ${e.message}\n`)
        return EXIT_FAILED
      }
      throw e
    }
  },
}

export default command

// `sultry proxy` on loopback against the same transfer without it: throughput of a large download
// (1 GiB by default) with curl as the sink, and the handshake latency a client sees (TCP connect
// + CONNECT + TLS up to secureConnect) over sequential connections. The origin is nginx; the
// proxy and the OOB helper run as their own `sultry` processes, as a user would run them.
// Bounded: every child is killed at the end, every transfer has a time limit.
//   npx tsx bench/proxy.ts            (or through bench/index.ts)

import { spawn } from 'node:child_process'
import { closeSync, openSync, ftruncateSync, rmSync, writeFileSync } from 'node:fs'
import * as net from 'node:net'
import { join } from 'node:path'
import * as tls from 'node:tls'
import { pathToFileURL } from 'node:url'
import { labTls } from '../lab/fixtures/index.js'
import { freePort, nginxServer, type Peer, repoRoot, startProcess, tempDir } from '../src/proxy/testkit/peers.js'

export type ProxyBenchStrategy = 'direct' | 'record-split' | 'oob-relay'

export interface ProxyBenchOptions {
  /** Bytes downloaded per throughput run (default 1 GiB). */
  bytes?: number
  /** Sequential handshakes per path (default 1000). */
  connections?: number
  /** Throughput runs per path; the best one counts (default 2: loopback on a shared machine is noisy). */
  rounds?: number
  strategies?: ProxyBenchStrategy[]
  /** Prints the table (default true). */
  print?: boolean
}

export interface ProxyBenchRow {
  path: 'no proxy' | ProxyBenchStrategy
  /** Best MB/s over the rounds that completed (MB = 10^6 bytes); NaN if none did. */
  mbps: number
  /** Why rounds did not complete (each failure, in order). */
  failures: string[]
  /** mbps / the no-proxy mbps. */
  ratio: number
  handshakeP50Ms: number
  handshakeP99Ms: number
  /** This path's p50/p99 minus the no-proxy p50/p99 (0 for the no-proxy row). */
  addedP50Ms: number
  addedP99Ms: number
}

export interface ProxyBenchResult {
  bytes: number
  connections: number
  rows: ProxyBenchRow[]
}

const SITE = 'server.lab.test'

/** MB/s of one download, or why it did not finish (a stall is aborted after 10 s without a byte). */
function curlDownload(url: string, args: string[], bytes: number, timeoutS: number): Promise<{ mbps: number } | { failed: string }> {
  return new Promise((resolve) => {
    const p = spawn('curl', ['-sS', '--max-time', String(timeoutS), '--speed-limit', '1', '--speed-time', '10', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', ...args, url])
    let out = ''
    let err = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.stderr.on('data', (d: Buffer) => (err += d.toString()))
    p.on('close', (code) => {
      const [size, secs] = out.trim().split(' ').map(Number)
      if (code === 0 && size === bytes) return resolve({ mbps: bytes / 1e6 / secs })
      resolve({ failed: `curl exit ${code} after ${(size / 1e6).toFixed(0)} of ${(bytes / 1e6).toFixed(0)} MB${/timed out/.test(err) ? ' (stalled or too slow)' : ''}` })
    })
  })
}

/** One TLS handshake, optionally through an HTTP CONNECT proxy; ms from TCP connect to secureConnect. */
function handshake(originPort: number, ca: string, proxyPort?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const fail = (e: Error) => reject(e)
    const startTls = (socket?: net.Socket) => {
      const t = tls.connect({ ...(socket ? { socket } : { host: '127.0.0.1', port: originPort }), servername: SITE, ca })
      t.once('secureConnect', () => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6
        t.destroy()
        resolve(ms)
      })
      t.once('error', fail)
    }
    if (proxyPort === undefined) return startTls()
    const s = net.connect(proxyPort, '127.0.0.1')
    s.setNoDelay(true)
    s.once('error', fail)
    s.once('connect', () => s.write(`CONNECT ${SITE}:${originPort} HTTP/1.1\r\nHost: ${SITE}:${originPort}\r\n\r\n`))
    let head = ''
    const onData = (d: Buffer) => {
      head += d.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      s.off('data', onData)
      if (!/^HTTP\/1\.[01] 200/.test(head)) return fail(new Error(`proxy answered: ${head.split('\r\n')[0]}`))
      if (end + 4 !== head.length) return fail(new Error('proxy sent bytes after its CONNECT reply'))
      startTls(s)
    }
    s.on('data', onData)
  })
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]

export function formatProxyBench(r: ProxyBenchResult): string {
  const head = `proxy  ${(r.bytes / 2 ** 30).toFixed(2)} GiB download (curl -> [sultry proxy] -> nginx, loopback) and ${r.connections} sequential TLS handshakes`
  const cols = ['path', 'MB/s', 'ratio', 'hs p50 ms', 'hs p99 ms', 'added p50', 'added p99']
  const lines = r.rows.map((x) => [x.path, x.mbps.toFixed(0), x.ratio.toFixed(3), x.handshakeP50Ms.toFixed(2), x.handshakeP99Ms.toFixed(2), `${x.addedP50Ms >= 0 ? '+' : ''}${x.addedP50Ms.toFixed(2)}`, `${x.addedP99Ms >= 0 ? '+' : ''}${x.addedP99Ms.toFixed(2)}`])
  const w = cols.map((c, i) => Math.max(c.length, ...lines.map((l) => l[i].length)))
  const fmt = (l: string[]) => '  ' + l.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')
  const notes = r.rows.flatMap((x) => x.failures.map((f) => `  ! ${x.path}: ${f}`))
  return [head, fmt(cols), ...lines.map(fmt), ...notes].join('\n')
}

export async function benchProxy(opts: ProxyBenchOptions = {}): Promise<ProxyBenchResult> {
  const bytes = opts.bytes ?? 2 ** 30
  const connections = opts.connections ?? 1000
  const rounds = opts.rounds ?? 2
  const wanted = opts.strategies ?? ['direct', 'record-split', 'oob-relay']
  const fx = labTls()
  const dir = tempDir('sultry-bench-proxy-')
  const caFile = join(dir, 'ca.pem')
  const keyFile = join(dir, 'psk.hex')
  writeFileSync(caFile, fx.caCert)
  writeFileSync(keyFile, 'd4'.repeat(32))
  // A sparse file: nginx reads zeros without the disk, the TLS work is the same as for data.
  const fd = openSync(join(dir, 'big.bin'), 'w')
  ftruncateSync(fd, bytes)
  closeSync(fd)
  const peers: Peer[] = []
  const sultry = async (args: string[], ready: RegExp): Promise<Peer> => {
    const port = await freePort()
    const p = await startProcess('node', [join(repoRoot, 'bin', 'sultry.js'), ...args.map((a) => a.replace('PORT', String(port)))], { ready, port, timeoutMs: 30_000 })
    peers.push(p)
    return p
  }
  try {
    const nginx = await nginxServer(dir, fx.serverCert, fx.serverKey)
    peers.push(nginx)
    const helper = await sultry(['oob-server', '--listen', '127.0.0.1:PORT', '--key', keyFile, '--allow-private', '--map', `${SITE}=127.0.0.1`, '--quiet'], /pin: [0-9a-f]{64}/)
    const pin = /pin: ([0-9a-f]{64})/.exec(helper.output())![1]
    const proxies = new Map<ProxyBenchStrategy, Peer>()
    for (const s of wanted) {
      const oob = s === 'oob-relay' ? ['--oob', `127.0.0.1:${helper.port}`, '--oob-key', keyFile, '--oob-cover-sni', 'cover.example', '--oob-pin', pin] : []
      proxies.set(s, await sultry(['proxy', '--listen', '127.0.0.1:PORT', '--strategy', s, '--map', `${SITE}=127.0.0.1`, '--quiet', ...oob], /listening/))
    }
    const url = `https://${SITE}:${nginx.port}/big.bin`
    const paths: Array<{ path: ProxyBenchRow['path']; proxyPort?: number }> = [{ path: 'no proxy' }, ...wanted.map((s) => ({ path: s, proxyPort: proxies.get(s)!.port }))]
    const curlArgs = (proxyPort?: number) => ['--cacert', caFile, ...(proxyPort === undefined ? ['--resolve', `${SITE}:${nginx.port}:127.0.0.1`] : ['-x', `http://127.0.0.1:${proxyPort}`])]
    // Rounds interleave the paths so that a slow moment of the shared machine hits all of them.
    const best = new Map<string, number>()
    const failures = new Map<string, string[]>(paths.map((p) => [p.path, []]))
    // A floor of 4 MB/s: far below any healthy path, so only a stalled one hits it.
    const timeoutS = Math.max(60, Math.ceil(bytes / 4e6))
    for (let round = 0; round < rounds; round++) {
      for (const p of paths) {
        const r = await curlDownload(url, curlArgs(p.proxyPort), bytes, timeoutS)
        if ('mbps' in r) best.set(p.path, Math.max(best.get(p.path) ?? 0, r.mbps))
        else failures.get(p.path)!.push(r.failed)
      }
    }
    const times = new Map<string, number[]>(paths.map((p) => [p.path, []]))
    for (let i = 0; i < connections; i++) {
      for (const p of paths) times.get(p.path)!.push(await handshake(nginx.port, fx.caCert, p.proxyPort))
    }
    const base = times.get('no proxy')!.sort((a, b) => a - b)
    const rows = paths.map((p): ProxyBenchRow => {
      const t = times.get(p.path)!.sort((a, b) => a - b)
      return {
        path: p.path,
        mbps: best.get(p.path) ?? NaN,
        ratio: (best.get(p.path) ?? NaN) / (best.get('no proxy') ?? NaN),
        failures: failures.get(p.path)!,
        handshakeP50Ms: pct(t, 0.5),
        handshakeP99Ms: pct(t, 0.99),
        addedP50Ms: pct(t, 0.5) - pct(base, 0.5),
        addedP99Ms: pct(t, 0.99) - pct(base, 0.99),
      }
    })
    const result = { bytes, connections, rows }
    if (opts.print ?? true) console.log(formatProxyBench(result))
    return result
  } finally {
    for (const p of peers.reverse()) await p.kill()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchProxy()
}

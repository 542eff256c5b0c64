// Runs INSIDE the QEMU guest (a Debian kernel with the tls module; see run.sh): `sultry fetch
// --ktls require` against openssl s_server for every suite/version, checking the body's SHA-256,
// the kTLS report, and that /proc/net/tls_stat's software TX/RX counters rose; plus a deliberately
// wrong RX rec_seq that the kernel must reject with EBADMSG. Prints RESULT lines for the host.

import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import net from 'node:net'
import { ContentType, TLS_RX, TLS_TX } from '../constants.js'
import { encodeCryptoInfo } from '../crypto-info.js'
import { errnoName, loadAddon } from '../native.js'
import { handshakeOverPump } from '../pump.js'
import { startSServer, type LabPki } from '../testkit/peers.js'
import { kernelCryptoInfo, tls13DirectionKeys } from '../traffic-keys.js'

const HERE = process.argv[2] ?? '/t'
const pki: LabPki = { dir: `${HERE}/pki`, caPem: readFileSync(`${HERE}/pki/ca.pem`, 'utf8'), caFile: `${HERE}/pki/ca.pem`, certFile: `${HERE}/pki/leaf.pem`, keyFile: `${HERE}/pki/leaf.key` }
let failures = 0
const result = (name: string, ok: boolean, detail: string) => {
  if (!ok) failures++
  console.log(`RESULT ${name} ${ok ? 'PASS' : 'FAIL'} ${detail}`)
}

function tlsStat(): Record<string, number> {
  const out: Record<string, number> = {}
  for (const line of readFileSync('/proc/net/tls_stat', 'utf8').split('\n')) {
    const [k, v] = line.trim().split(/\s+/)
    if (k) out[k] = Number(v)
  }
  return out
}

/** Runs node with args; a run that hangs is killed after `limitMs` and reported, never waited on forever. */
function run(args: string[], limitMs = 60_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SULTRY_KTLS_TRACE: '1' } })
    let stderr = ''
    const timer = setTimeout(() => {
      stderr += ` [killed: no exit after ${limitMs} ms]`
      child.kill('SIGKILL')
    }, limitMs)
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stderr })
    })
  })
}

const combos = [
  ['TLSv1.3', 'TLS_AES_128_GCM_SHA256', ['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256']],
  ['TLSv1.3', 'TLS_AES_256_GCM_SHA384', ['-tls1_3', '-ciphersuites', 'TLS_AES_256_GCM_SHA384']],
  ['TLSv1.3', 'TLS_CHACHA20_POLY1305_SHA256', ['-tls1_3', '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256']],
  ['TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256', ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256']],
  ['TLSv1.2', 'ECDHE-RSA-AES256-GCM-SHA384', ['-tls1_2', '-cipher', 'ECDHE-RSA-AES256-GCM-SHA384']],
  ['TLSv1.2', 'ECDHE-RSA-CHACHA20-POLY1305', ['-tls1_2', '-cipher', 'ECDHE-RSA-CHACHA20-POLY1305']],
] as const

async function main(): Promise<void> {
  const load = loadAddon()
  result('addon', load.ok, load.ok ? `probe ${JSON.stringify(load.addon.probe())}` : load.reason)
  if (!load.ok) return
  const www = '/tmp/www'
  mkdirSync(www, { recursive: true })
  const big = randomBytes(1024 * 1024 + 7)
  writeFileSync(`${www}/big`, big)
  const sha = createHash('sha256').update(big).digest('hex')
  const before = tlsStat()

  for (const [protocol, cipher, args] of combos) {
    const peer = await startSServer(pki, ['-WWW', ...args], www)
    const out = `/tmp/out-${cipher}`
    const r = await run([`${HERE}/dist/ktls/fetch-cli.mjs`, `https://127.0.0.1:${peer.port}/big`, '--ca', pki.caFile, '--ktls', 'require', '-o', out])
    peer.stop()
    let got = ''
    try {
      got = createHash('sha256').update(readFileSync(out)).digest('hex')
    } catch {}
    const ok = r.code === 0 && r.stderr.includes(`ktls: tx=on rx=on cipher=${cipher}`) && got === sha
    // Trace lines only for a failure: they are what explains it.
    const lines = r.stderr.split('\n')
    const shown = ok ? lines.filter((l) => !l.startsWith('trace: ')).join('\n') : [...lines.slice(0, 8), '...', ...lines.slice(-30)].join('\n')
    // How data was waited for: poll callbacks vs the 10 ms safety-net retries (kernel-socket.ts).
    const count = (prefix: string) => lines.filter((l) => l.startsWith(prefix)).length
    const waits = `polls=${count('trace: poll status')} retries=${count('trace: retry timer fired')}`
    result(`fetch-${protocol}-${cipher}`, ok, `exit=${r.code} sha=${got === sha ? 'match' : 'MISMATCH'} ${waits} ${shown.trim().replace(/\n/g, ' | ')}`)
  }

  // Throughput of the kTLS path against the userspace fallback, same server, same body. TCG
  // emulation makes absolute numbers meaningless; the ratio is printed, never asserted.
  const benchBody = randomBytes(16 * 1024 * 1024)
  writeFileSync(`${www}/bench`, benchBody)
  const timings: Record<string, number> = {}
  for (const mode of ['require', 'off'] as const) {
    const peer = await startSServer(pki, ['-WWW', '-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'], www)
    const t0 = process.hrtime.bigint()
    const r = await run([`${HERE}/dist/ktls/fetch-cli.mjs`, `https://127.0.0.1:${peer.port}/bench`, '--ca', pki.caFile, '--ktls', mode, '-o', '/dev/null'])
    timings[mode] = Number(process.hrtime.bigint() - t0) / 1e9
    peer.stop()
    if (r.code !== 0) console.log(`BENCH ${mode} failed: ${r.stderr.trim()}`)
  }
  const mb = benchBody.length / 1e6
  console.log(`BENCH 16 MiB TLS 1.3 AES-128-GCM: kTLS ${(mb / timings.require).toFixed(1)} MB/s, userspace ${(mb / timings.off).toFixed(1)} MB/s, ratio kTLS/userspace ${(timings.off / timings.require).toFixed(2)} (TCG emulation, includes process start)`)

  // Negative: RX rec_seq 1 instead of 0 (TLS 1.3) must fail authentication in the kernel.
  const peer = await startSServer(pki, ['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'])
  const raw = net.connect(peer.port, '127.0.0.1')
  await new Promise<void>((r) => raw.once('connect', r))
  const fd = (raw as unknown as { _handle: { fd: number } })._handle.fd
  const ulp = load.addon.setUlp(fd)
  const h = await handshakeOverPump(raw, { host: '127.0.0.1', ca: pki.caPem, minVersion: 'TLSv1.3' })
  const s = h.secrets.tls13()!
  const tx = load.addon.setCryptoInfo(fd, TLS_TX, encodeCryptoInfo(kernelCryptoInfo(h.suite!, tls13DirectionKeys(h.suite!, s.client), 0n)))
  h.detach()
  const rx = load.addon.setCryptoInfo(fd, TLS_RX, encodeCryptoInfo(kernelCryptoInfo(h.suite!, tls13DirectionKeys(h.suite!, s.server), 1n)))
  load.addon.sendmsg(fd, new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n'), ContentType.applicationData)
  let errno = 0
  for (let i = 0; i < 200 && errno === 0; i++) {
    const r = load.addon.recvmsg(fd, new Uint8Array(20000))
    if (r.n < 0 && errnoName(r.errno) !== 'EAGAIN') errno = r.errno
    else if (r.n <= 0) await new Promise((res) => setTimeout(res, 20))
  }
  peer.stop()
  result('wrong-rx-rec_seq', ulp === 0 && tx === 0 && rx === 0 && errnoName(errno) === 'EBADMSG', `ulp=${ulp} tx=${tx} rx=${rx} recvmsg=${errnoName(errno)}`)
  process.exit(finish(before))
}

function finish(before: Record<string, number>): number {
  const after = tlsStat()
  const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0)
  result('tls_stat', d('TlsTxSw') >= 7 && d('TlsRxSw') >= 7, `TlsTxSw +${d('TlsTxSw')} TlsRxSw +${d('TlsRxSw')} TlsDecryptError +${d('TlsDecryptError')}`)
  console.log(`KTLS-VM SUMMARY ${failures === 0 ? 'PASS' : 'FAIL'} failures=${failures}`)
  return failures ? 1 : 0
}

main().catch((e: unknown) => {
  console.log(`RESULT guest FAIL ${e instanceof Error ? e.stack : String(e)}`)
  console.log('KTLS-VM SUMMARY FAIL')
  process.exit(1)
})

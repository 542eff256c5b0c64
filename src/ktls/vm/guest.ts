// Runs INSIDE the QEMU guest (a Debian kernel with the tls module; see run.sh): `sultry fetch
// --ktls require` against openssl s_server for every suite/version, checking the body's SHA-256,
// the kTLS report, and that /proc/net/tls_stat's software TX/RX counters rose; readiness checks on
// the kernel-backed fd (many small records, a body that arrives while the reader is paused);
// a KeyUpdate from the server after the handover (must be a clear error, never wrong bytes); a
// deliberately wrong RX rec_seq that the kernel must reject with EBADMSG; and the kTLS/userspace
// throughput ratio. Prints RESULT/BENCH lines for the host. There is no timer fallback in the
// kernel socket any more: a missed readiness event shows up here as a fetch killed after its limit.

import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { ContentType, TLS_RX, TLS_TX } from '../constants.js'
import { encodeCryptoInfo } from '../crypto-info.js'
import { fetch, formatKtls } from '../fetch.js'
import { handOver, type KtlsIo } from '../handover.js'
import { errnoName, loadAddon, type KtlsAddon } from '../native.js'
import { handshakeOverPump } from '../pump.js'
import { captureClientHello } from '../testkit/client-hello.js'
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
function run(args: string[], io: KtlsIo = 'plain', limitMs = 60_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SULTRY_KTLS_TRACE: '1', SULTRY_KTLS_IO: io } })
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
  await offerMatchesProbe(load.addon)
  const www = '/tmp/www'
  mkdirSync(www, { recursive: true })
  const big = randomBytes(1024 * 1024 + 7)
  writeFileSync(`${www}/big`, big)
  const sha = createHash('sha256').update(big).digest('hex')
  const before = tlsStat()

  // Every suite on the plain path; the io_uring path for one TLS 1.3 and one TLS 1.2 suite (its
  // record-type cmsg is what keeps the TLS 1.3 tickets out of the body).
  const runs = [...combos.map((c) => [...c, 'plain'] as const), [...combos[0], 'uring'] as const, [...combos[5], 'uring'] as const]
  for (const [protocol, cipher, args, io] of runs) {
    const peer = await startSServer(pki, ['-WWW', ...args], www)
    const out = `/tmp/out-${cipher}-${io}`
    const r = await run([`${HERE}/dist/ktls/fetch-cli.mjs`, `https://127.0.0.1:${peer.port}/big`, '--ca', pki.caFile, '--ktls', 'require', '-o', out], io)
    peer.stop()
    let got = ''
    try {
      got = createHash('sha256').update(readFileSync(out)).digest('hex')
    } catch {}
    const ok = r.code === 0 && r.stderr.includes(`ktls: tx=on rx=on cipher=${cipher} io=${io}\n`) && got === sha
    // Trace lines only for a failure: they are what explains it.
    const lines = r.stderr.split('\n')
    const shown = ok ? lines.filter((l) => !l.startsWith('trace: ')).join('\n') : [...lines.slice(0, 8), '...', ...lines.slice(-30)].join('\n')
    // How often the reader waited on the libuv poll (readiness events that reached JS).
    const waits = io === 'plain' ? `polls=${lines.filter((l) => l.startsWith('trace: poll status')).length}` : `completions=${lines.filter((l) => /^trace: uring \w+ res=/.test(l)).length}`
    result(`fetch-${io === 'uring' ? 'uring-' : ''}${protocol}-${cipher}`, ok, `exit=${r.code} sha=${got === sha ? 'match' : 'MISMATCH'} ${waits} ${shown.trim().replace(/\n/g, ' | ')}`)
  }

  // Many small records: s_server caps its records at 512 bytes, so a 1 MiB body is > 2000 records
  // and the reader waits on the poll between most of them.
  {
    const peer = await startSServer(pki, ['-WWW', '-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256', '-max_send_frag', '512'], www)
    const r = await run([`${HERE}/dist/ktls/fetch-cli.mjs`, `https://127.0.0.1:${peer.port}/big`, '--ca', pki.caFile, '--ktls', 'require', '-o', '/tmp/out-small'])
    peer.stop()
    let got = ''
    try {
      got = createHash('sha256').update(readFileSync('/tmp/out-small')).digest('hex')
    } catch {}
    const lines = r.stderr.split('\n')
    const polls = lines.filter((l) => l.startsWith('trace: poll status')).length
    const records = lines.filter((l) => /^trace: recvmsg n=\d+ type=23/.test(l)).length
    // recvmsg fills the whole buffer across records (and splits one at its end), so calls < records.
    const ok = r.code === 0 && got === sha
    result('small-records', ok, `exit=${r.code} sha=${got === sha ? 'match' : 'MISMATCH'} recvmsg-calls=${records} polls=${polls}${ok ? '' : ' ' + lines.slice(-20).join(' | ')}`)
  }

  for (const io of ['plain', 'uring'] as const) {
    await pausedReader(load.addon, www, io)
    await interactive(load.addon, io)
  }

  // Throughput of the kTLS path against the userspace fallback: same server, same body, in this
  // process (no process start in the timing), alternating. TCG emulation makes absolute numbers
  // meaningless; the ratio is printed, never asserted.
  const mib = Number(/sultry\.bench_mib=(\d+)/.exec(readFileSync('/proc/cmdline', 'utf8'))?.[1] ?? 32)
  if (mib > 0) await bench(mib, www)

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

/**
 * The ClientHello of `fetch --ktls require` offers exactly the suites the kernel accepted in the
 * probe, and only the versions they belong to. Code points from the RFCs (RFC 8446 App. B.4,
 * RFC 5289 §3, RFC 7905 §2), not from suites.ts.
 */
async function offerMatchesProbe(addon: KtlsAddon): Promise<void> {
  const codes: Record<string, number[]> = { 'tls13-51': [0x1301], 'tls13-52': [0x1302], 'tls13-54': [0x1303], 'tls12-51': [0xc02b, 0xc02f], 'tls12-52': [0xc02c, 0xc030], 'tls12-54': [0xcca8, 0xcca9] }
  const probe = addon.probe()
  const accepted = Object.keys(codes).filter((k) => probe.suites[k] === 0)
  const want = accepted.flatMap((k) => codes[k]).sort((a, b) => a - b)
  const wantVersions = [...new Set(accepted.map((k) => (k.startsWith('tls13') ? 0x0304 : 0x0303)))].sort()
  try {
    const got = await captureClientHello((port) => void fetch(`https://127.0.0.1:${port}/`, { insecure: true, ktls: 'require' }).catch(() => {}))
    const hex = (l: number[]) => l.map((c) => c.toString(16)).join(',')
    const ok = accepted.length > 0 && hex(got.suites) === hex(want) && hex(got.versions) === hex(wantVersions)
    result('offer-equals-probe', ok, `probed ok: ${accepted.join(' ')}; offered suites ${hex(got.suites)} (want ${hex(want)}), versions ${hex(got.versions)} (want ${hex(wantVersions)})`)
  } catch (e) {
    result('offer-equals-probe', false, e instanceof Error ? e.message : String(e))
  }
}

/** HTTP/1.0 GET over a handed-over kTLS socket; the reader stalls after the first chunk until the server has sent everything. */
async function pausedReader(addon: KtlsAddon, www: string, io: KtlsIo): Promise<void> {
  const name = io === 'plain' ? 'paused-reader' : 'paused-reader-uring'
  const body = randomBytes(512 * 1024 + 5)
  writeFileSync(`${www}/paused`, body)
  const peer = await startSServer(pki, ['-WWW', '-tls1_3', '-ciphersuites', 'TLS_AES_256_GCM_SHA384'], www)
  let detail = ''
  let ok = false
  try {
    const raw = net.connect(peer.port, '127.0.0.1')
    await new Promise<void>((r) => raw.once('connect', r))
    const fd = (raw as unknown as { _handle: { fd: number } })._handle.fd
    const ulp = addon.setUlp(fd)
    let polls = 0
    const h = await handOver(raw, fd, addon, { host: '127.0.0.1', ca: pki.caPem, minVersion: 'TLSv1.2' }, { io, trace: (l) => {
      if (l.startsWith('poll status') || / res=/.test(l)) polls++
    } })
    if (!h.kernel) throw new Error(`no kTLS (ulp=${ulp}): ${h.reason}`)
    if (h.io !== io) throw new Error(`io=${h.io} (${h.ioNote})`)
    h.stream.write('GET /paused HTTP/1.0\r\n\r\n')
    const parts: Buffer[] = []
    const limit = setTimeout(() => h.stream.destroy(new Error('no end within 60 s')), 60_000)
    for await (const c of h.stream as AsyncIterable<Buffer>) {
      parts.push(c)
      // Stall: the stream's buffer fills, the socket stops polling, the rest queues in the kernel.
      if (parts.length === 1) await new Promise((r) => setTimeout(r, 3000))
    }
    clearTimeout(limit)
    const all = Buffer.concat(parts)
    const at = all.indexOf('\r\n\r\n')
    const got = all.subarray(at + 4)
    ok = at > 0 && createHash('sha256').update(got).digest('hex') === createHash('sha256').update(body).digest('hex')
    detail = `bytes=${got.length}/${body.length} polls=${polls} tickets=${h.stream.control.tickets}`
  } catch (e) {
    detail = e instanceof Error ? e.message : String(e)
  }
  peer.stop()
  result(name, ok, detail)
}

/**
 * Interactive `openssl s_server` (its stdin goes to the client) over a handed-over TLS 1.3 socket.
 * trickle: 20 lines, each sent only after the previous one arrived, so the reader is idle every
 * time and only a poll event can deliver the next line (the case a dropped readiness event hangs).
 * keyupdate: s_server sends a KeyUpdate when its stdin gets "k". This client cannot re-key the
 * kernel (6.1 has no rekey API), so it must stop with a clear error and must not deliver anything
 * the server sent after the KeyUpdate.
 */
async function interactive(addon: KtlsAddon, io: KtlsIo): Promise<void> {
  const sfx = io === 'plain' ? '' : '-uring'
  const srv = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', pki.certFile, '-key', pki.keyFile, '-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  srv.stdout.on('data', (d: Buffer) => (out += d.toString()))
  srv.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const until = async (done: () => boolean, ms: number, what: string) => {
    for (let t = 0; t < ms && !done(); t += 20) await new Promise((r) => setTimeout(r, 20))
    if (!done()) throw new Error(`no ${what} within ${ms} ms`)
  }
  let stage = 'trickle'
  try {
    await until(() => /ACCEPT [^\n]*:\d+/.test(out), 20_000, 's_server ACCEPT')
    const port = Number(/ACCEPT [^\n]*:(\d+)/.exec(out)![1])
    const raw = net.connect(port, '127.0.0.1')
    await new Promise<void>((r) => raw.once('connect', r))
    const fd = (raw as unknown as { _handle: { fd: number } })._handle.fd
    addon.setUlp(fd)
    let polls = 0
    const h = await handOver(raw, fd, addon, { host: '127.0.0.1', ca: pki.caPem, minVersion: 'TLSv1.3' }, { io, trace: (l) => {
      if (l.startsWith('poll status') || /^uring recvmsg res=/.test(l)) polls++
    } })
    if (!h.kernel) throw new Error(`no kTLS: ${h.reason}`)
    if (h.io !== io) throw new Error(`io=${h.io} (${h.ioNote})`)
    let text = ''
    const ended = new Promise<string>((resolve) => {
      h.stream.on('data', (d: Buffer) => (text += d.toString()))
      h.stream.on('error', (e) => resolve(e.message))
      h.stream.on('end', () => resolve('end of stream'))
    })
    h.stream.write('hello from ktls\n')
    await until(() => out.includes('hello from ktls'), 20_000, 'client line at the server') // the kernel's TX works
    for (let i = 0; i < 20; i++) {
      srv.stdin.write(`line ${i}\n`)
      await until(() => text.includes(`line ${i}\n`), 10_000, `"line ${i}" at the client (polls so far ${polls})`)
    }
    result(`trickle${sfx}`, polls >= 20, `20/20 lines, ${io === 'plain' ? 'polls' : 'recv completions'}=${polls}`)

    stage = 'keyupdate'
    srv.stdin.write('before\n')
    await until(() => text.includes('before\n'), 10_000, '"before" at the client')
    srv.stdin.write('k\n')
    await until(() => /SSL_do_handshake/.test(out), 10_000, 'KeyUpdate sent by s_server').catch(() => undefined)
    srv.stdin.write('after\n')
    const why = await Promise.race([ended, new Promise<string>((r) => setTimeout(() => r('no error within 20 s'), 20_000))])
    const ok = !text.includes('after') && /KeyUpdate/.test(why)
    result(`keyupdate${sfx}`, ok, `error=${JSON.stringify(why)} delivered after it: ${JSON.stringify(text.slice(text.indexOf('before\n') + 7))}`)
    h.stream.destroy()
  } catch (e) {
    result(`${stage}${sfx}`, false, e instanceof Error ? e.message : String(e))
  }
  srv.kill()
}

async function bench(mib: number, www: string): Promise<void> {
  const block = randomBytes(1024 * 1024)
  const file = Buffer.concat(Array.from({ length: mib }, (_, i) => Buffer.concat([block.subarray(0, 8).fill(i & 0xff), block.subarray(8)])))
  writeFileSync(`${www}/bench`, file)
  const want = createHash('sha256').update(file).digest('hex')
  const bad: string[] = []
  const peer = await startSServer(pki, ['-WWW', '-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'], www)
  // Three paths: kTLS with recvmsg on readiness, kTLS with io_uring, and node:tls (userspace).
  const paths = {
    ktls: { ktls: 'require', io: 'plain' },
    uring: { ktls: 'require', io: 'uring' },
    userspace: { ktls: 'off', io: 'plain' },
  } as const
  type Path = keyof typeof paths
  const seconds: Record<Path, number[]> = { ktls: [], uring: [], userspace: [] }
  try {
    // Warm-up of every path (JIT, page cache): under TCG a cold first run is up to 2x slower.
    for (const p of Object.values(paths)) await fetch(`https://127.0.0.1:${peer.port}/big`, { ca: pki.caPem, ...p, onBody: () => {} })
    for (const path of ['ktls', 'uring', 'userspace', 'ktls', 'uring', 'userspace'] as const) {
      const t0 = process.hrtime.bigint()
      const res = await fetch(`https://127.0.0.1:${peer.port}/bench`, { ca: pki.caPem, ...paths[path], onBody: () => {} })
      seconds[path].push(Number(process.hrtime.bigint() - t0) / 1e9)
      if (res.bytes !== mib * 1024 * 1024) throw new Error(`${path}: ${res.bytes} bytes (${formatKtls(res.ktls)})`)
      const wantReport = path === 'userspace' ? 'ktls: off' : `io=${paths[path].io}`
      if (res.sha256 !== want || !formatKtls(res.ktls).includes(wantReport)) bad.push(`${path}: sha ${res.sha256 === want ? 'match' : 'MISMATCH'} ${formatKtls(res.ktls)}`)
    }
    result('large-download', bad.length === 0, `${mib} MiB x2 per path (kTLS plain, kTLS io_uring, userspace), SHA-256 and ktls report checked ${bad.join('; ')}`)
    const best = (p: Path) => Math.min(...seconds[p])
    const rate = (p: Path) => ((mib * 1.048576) / best(p)).toFixed(1)
    console.log(`BENCH ${mib} MiB TLS 1.3 AES-128-GCM, best of 2: kTLS ${rate('ktls')} MB/s, kTLS+io_uring ${rate('uring')} MB/s, userspace ${rate('userspace')} MB/s, ratio kTLS/userspace ${(best('userspace') / best('ktls')).toFixed(2)}, io_uring/plain ${(best('ktls') / best('uring')).toFixed(2)} (TCG emulation: only the ratios mean anything) runs ${JSON.stringify(seconds)}`)
  } catch (e) {
    result('large-download', false, e instanceof Error ? e.message : String(e))
  }
  peer.stop()
}

function finish(before: Record<string, number>): number {
  const after = tlsStat()
  const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0)
  result('tls_stat', d('TlsTxSw') >= 10 && d('TlsRxSw') >= 10, `TlsTxSw +${d('TlsTxSw')} TlsRxSw +${d('TlsRxSw')} TlsDecryptError +${d('TlsDecryptError')}`)
  console.log(`KTLS-VM SUMMARY ${failures === 0 ? 'PASS' : 'FAIL'} failures=${failures}`)
  return failures ? 1 : 0
}

main().catch((e: unknown) => {
  console.log(`RESULT guest FAIL ${e instanceof Error ? e.stack : String(e)}`)
  console.log('KTLS-VM SUMMARY FAIL')
  process.exit(1)
})

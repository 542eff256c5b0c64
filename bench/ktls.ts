// Download throughput of `sultry fetch` (whatever kTLS path this kernel allows) against Node's own
// https module and plain TCP, same server process type, same sink (SHA-256 of the body, then dropped), one run
// each, in sequence; then, inside QEMU with Debian's kernel (src/ktls/vm/run.sh), the kTLS path as a
// ratio to the userspace fallback. Usage:
//   node --import tsx bench/ktls.ts [bytes] [--vm-mib N] [--no-vm] [--io]   (default 1 GiB here, 128 MiB in the VM)
// Prints MB/s and ratios; says "kTLS" only if the fetch report had tx and rx on.
// --io: also the two data paths of a handed-over socket (recvmsg on libuv readiness vs io_uring),
// here on plain TCP taken over exactly as the handover takes over a kTLS socket (this kernel has
// no tls ULP); best of 3 alternating runs each. --io-only: just that part.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import https from 'node:https'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { fetch, formatKtls } from '../src/ktls/fetch.js'
import { loadAddon } from '../src/ktls/native.js'
import { adoptTcp } from '../src/ktls/testkit/adopt.js'
import { UringTlsSocket } from '../src/ktls/uring-socket.js'
import { makeLabPki } from '../src/ktls/testkit/peers.js'

const args = process.argv.slice(2)
const vmMibAt = args.indexOf('--vm-mib')
const VM_MIB = vmMibAt >= 0 ? Number(args[vmMibAt + 1]) : 128
const BYTES = Number(args.find((a, i) => !a.startsWith('--') && i !== vmMibAt + 1) ?? 2 ** 30)
const here = fileURLToPath(new URL('.', import.meta.url))
const pki = makeLabPki()

async function server(mode: 'tls' | 'tcp'): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${here}ktls-server.ts`, mode, String(BYTES), pki.certFile, pki.keyFile], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((r) => child.stdout!.once('data', (d: Buffer) => r(Number(d.toString().trim()))))
  return { port, child }
}

async function timed(name: string, mode: 'tls' | 'tcp', run: (port: number) => Promise<number>): Promise<number> {
  const { port, child } = await server(mode)
  const t0 = process.hrtime.bigint()
  const got = await run(port)
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  child.kill()
  if (got !== BYTES) throw new Error(`${name}: got ${got} of ${BYTES} bytes`)
  const mbs = BYTES / 1e6 / s
  console.log(`${name.padEnd(34)} ${mbs.toFixed(0).padStart(6)} MB/s  (${s.toFixed(2)} s)`)
  return mbs
}

function sinkRead(stream: NodeJS.ReadableStream, skipHead: boolean): Promise<number> {
  const hash = createHash('sha256')
  let n = 0
  let head = skipHead
  return new Promise((resolve, reject) => {
    stream.on('data', (d: Buffer) => {
      if (head) {
        const end = d.indexOf('\r\n\r\n')
        if (end < 0) return
        d = d.subarray(end + 4)
        head = false
      }
      hash.update(d)
      n += d.length
    })
    stream.on('end', () => {
      hash.digest()
      resolve(n)
    })
    stream.on('error', reject)
  })
}

/** Plain TCP, fd taken over by the kernel socket (plain or io_uring): best of 3 alternating runs, MB/s. */
async function ioPaths(): Promise<void> {
  const load = loadAddon()
  if (!load.ok) return void console.log(`data paths: ${load.reason}`)
  const addon = load.addon
  const best: Record<'plain' | 'uring', number> = { plain: 0, uring: 0 }
  const extra: Record<string, string> = {}
  for (const io of ['plain', 'uring', 'plain', 'uring', 'plain', 'uring'] as const) {
    const mbs = await timed(`handed-over TCP fd, io=${io}`, 'tcp', async (port) => {
      const raw = net.connect(port, '127.0.0.1')
      await new Promise<void>((r) => raw.once('connect', r))
      // No trace: it would cost the plain path a string per syscall.
      const s = adoptTcp(addon, raw, io)
      s.write('GET / HTTP/1.1\r\n\r\n')
      const n = await sinkRead(s, true)
      if (s instanceof UringTlsSocket) {
        const st = s.stats()
        extra.uring = `${st.enters} io_uring_enter, ${st.wakeups} eventfd wakeups, ${st.completions} completions`
      }
      s.destroy()
      return n
    })
    best[io] = Math.max(best[io], mbs)
  }
  console.log(`data paths, best of 3: plain ${best.plain.toFixed(0)} MB/s, io_uring ${best.uring.toFixed(0)} MB/s (${extra.uring}); ratio io_uring/plain ${(best.uring / best.plain).toFixed(2)}`)
}

if (args.includes('--io-only')) {
  await ioPaths()
  process.exit(0)
}

let report = ''
const fetchMbs = await timed('sultry fetch', 'tls', async (port) => {
  const res = await fetch(`https://127.0.0.1:${port}/`, { ca: pki.caPem, onBody: () => {} })
  report = formatKtls(res.ktls)
  return res.bytes
})
const httpsMbs = await timed('node https (TLS 1.3 AES-128-GCM)', 'tls', (port) =>
  new Promise((resolve, reject) => https.get({ host: '127.0.0.1', port, ca: pki.caPem, agent: false }, (res) => sinkRead(res, false).then(resolve, reject)).on('error', reject)))
const tcpMbs = await timed('plain TCP (node net)', 'tcp', (port) => {
  const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\n\r\n'))
  return sinkRead(s, true)
})
const ktlsOn = report.startsWith('ktls: tx=on rx=on')
console.log(`\nsultry fetch path: ${ktlsOn ? 'kTLS' : 'userspace TLS (node:tls)'} — ${report}`)
console.log(`ratio sultry fetch / node https: ${(fetchMbs / httpsMbs).toFixed(2)}`)
console.log(`ratio sultry fetch / plain TCP:  ${(fetchMbs / tcpMbs).toFixed(2)}`)
console.log(`(${BYTES} bytes per run, one run each, shared 2-core machine: treat ratios as rough)`)
if (args.includes('--io')) {
  console.log('')
  await ioPaths()
}

// Inside the VM: the guest's bench (best of 2 alternating runs per path, same s_server, in one
// process) prints one BENCH line. TCG emulation makes the MB/s meaningless; the ratio is the figure.
if (!args.includes('--no-vm')) {
  console.log(`\nkTLS vs userspace fallback inside QEMU (Debian kernel, ${VM_MIB} MiB; make test-ktls-vm's checks run too; --no-vm skips):`)
  const t0 = Date.now()
  const vm = spawnSync('bash', [`${here}../src/ktls/vm/run.sh`], { env: { ...process.env, KTLS_VM_BENCH_MIB: String(VM_MIB) }, encoding: 'utf8', maxBuffer: 64 << 20 })
  const line = /BENCH .*/.exec(vm.stdout ?? '')
  console.log(line ? line[0].replace(/^BENCH /, '') : `no BENCH line from the VM run (exit ${vm.status}): ${(vm.stdout ?? '').trim().split('\n').slice(-4).join(' | ')}`)
  console.log(`(VM run ${vm.status === 0 ? 'passed' : `exit ${vm.status}`}, ${((Date.now() - t0) / 1000).toFixed(0)} s)`)
}

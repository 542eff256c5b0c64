// The handover's own fallback, with the real kernel answering: without the tls ULP on the socket,
// setsockopt(SOL_TLS, TLS_TX) is refused (ENOPROTOOPT here); nothing was switched yet, so node:tls
// must carry on over the pump and the request still succeeds.

import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { constants, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handOver } from './handover.js'
import { ADDON_PATH, loadAddon, type KtlsAddon } from './native.js'
import { formatKtls } from './fetch.js'
import { KernelTlsSocket } from './kernel-socket.js'
import { probeOnce } from './offer.js'
import { UringTlsSocket } from './uring-socket.js'
import { KTLS_CIPHER_LIST } from './suites.js'
import { makeLabPki, startSServer, type LabPki, type Peer } from './testkit/peers.js'

let pki: LabPki
let addon: KtlsAddon
const peers: Peer[] = []
beforeAll(() => {
  pki = makeLabPki()
  if (!existsSync(ADDON_PATH)) execFileSync('make', ['native'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'ignore' })
  const load = loadAddon()
  if (!load.ok) throw new Error(load.reason)
  addon = load.addon
})
afterAll(() => peers.forEach((p) => p.stop()))

describe('handover when the kernel refuses TLS_TX', () => {
  for (const [protocol, args] of [['TLSv1.3', ['-tls1_3']], ['TLSv1.2', ['-tls1_2']]] as const) {
    it(`${protocol}: reports the kernel's errno and continues in userspace over the pump`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'sultry-handover-'))
      writeFileSync(join(root, 'hello'), 'hello from s_server\n')
      const peer = await startSServer(pki, ['-WWW', ...args], root)
      peers.push(peer)
      const raw = net.connect(peer.port, '127.0.0.1')
      await new Promise<void>((r) => raw.once('connect', r))
      const fd = (raw as unknown as { _handle: { fd: number } })._handle.fd
      // Offer every kTLS suite as if the probe had accepted them all: this is about TLS_TX's answer.
      const h = await handOver(raw, fd, addon, { host: '127.0.0.1', ca: pki.caPem }, { offer: { ciphers: KTLS_CIPHER_LIST, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', dropped: [] } })
      expect(h.kernel).toBe(false)
      expect(!h.kernel && h.reason).toBe('ENOPROTOOPT: SOL_TLS TLS_TX refused (no tls ULP on the socket)')
      expect(h.protocol).toBe(protocol)
      h.stream.write('GET /hello HTTP/1.0\r\n\r\n')
      const chunks: Buffer[] = []
      for await (const c of h.stream as AsyncIterable<Buffer>) chunks.push(c)
      const text = Buffer.concat(chunks).toString()
      expect(text.startsWith('HTTP/1.0 200 ok')).toBe(true)
      expect(text.endsWith('hello from s_server\n')).toBe(true)
    })
  }
})

describe('handover with the offer from this kernel\'s probe', () => {
  it('a probe without the tls ULP offers no kernel suites: the handshake completes and stays in userspace, with the probe\'s reason', async () => {
    const probe = probeOnce(addon)
    if (probe.ulp === 0) return // a kTLS kernel: the VM's offer-equals-probe check covers it
    const root = mkdtempSync(join(tmpdir(), 'sultry-handover-'))
    writeFileSync(join(root, 'hello'), 'hello\n')
    const peer = await startSServer(pki, ['-WWW'], root)
    peers.push(peer)
    const raw = net.connect(peer.port, '127.0.0.1')
    await new Promise<void>((r) => raw.once('connect', r))
    const fd = (raw as unknown as { _handle: { fd: number } })._handle.fd
    const h = await handOver(raw, fd, addon, { host: '127.0.0.1', ca: pki.caPem })
    expect(!h.kernel && h.reason).toBe('probe: ENOENT: the kernel has no tls ULP; try modprobe tls')
    h.stream.write('GET /hello HTTP/1.0\r\n\r\n')
    const chunks: Buffer[] = []
    for await (const c of h.stream as AsyncIterable<Buffer>) chunks.push(c)
    expect(Buffer.concat(chunks).toString().endsWith('hello\n')).toBe(true)
  })
})

describe('handover: the data path chosen after TLS_TX/TLS_RX (kernel answers stubbed to 0; this kernel has no ULP)', () => {
  // setsockopt(SOL_TLS) is made to succeed so the handover reaches the data-path choice; nothing is
  // read through the stream afterwards (the kernel is not really encrypting here).
  async function handedOver(io: 'plain' | 'uring', uringOpen?: KtlsAddon['uringOpen']) {
    const stub: KtlsAddon = { ...addon, setCryptoInfo: (_fd, _dir, bytes) => (bytes.fill(0), 0), ...(uringOpen ? { uringOpen } : {}) }
    const root = mkdtempSync(join(tmpdir(), 'sultry-handover-'))
    const peer = await startSServer(pki, ['-WWW', '-tls1_3'], root)
    peers.push(peer)
    const raw = net.connect(peer.port, '127.0.0.1')
    await new Promise<void>((r) => raw.once('connect', r))
    const fd = (raw as unknown as { _handle: { fd: number } })._handle.fd
    const h = await handOver(raw, fd, stub, { host: '127.0.0.1', ca: pki.caPem }, { io, offer: { ciphers: KTLS_CIPHER_LIST, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', dropped: [] } })
    if (!h.kernel) throw new Error(h.reason)
    h.stream.destroy()
    return h
  }

  it('io uring: the stream is the io_uring socket and the report says io=uring', async () => {
    const h = await handedOver('uring')
    expect([h.io, h.ioNote, h.stream instanceof UringTlsSocket]).toEqual(['uring', undefined, true])
    expect(formatKtls({ tx: true, rx: true, cipher: h.cipher, io: h.io, ioNote: h.ioNote })).toBe(`ktls: tx=on rx=on cipher=${h.cipher} io=uring`)
  })

  it('io uring where io_uring_setup is refused (EPERM, as under seccomp): plain path, and the report says why', async () => {
    const h = await handedOver('uring', () => ({ step: 'io_uring_setup', errno: constants.errno.EPERM }))
    expect([h.io, h.stream instanceof KernelTlsSocket]).toEqual(['plain', true])
    expect(formatKtls({ tx: true, rx: true, cipher: 'X', io: h.io, ioNote: h.ioNote })).toBe('ktls: tx=on rx=on cipher=X io=plain (io_uring unavailable: EPERM from io_uring_setup)')
  })

  it('io plain (the default): recvmsg on readiness', async () => {
    const h = await handedOver('plain')
    expect([h.io, h.ioNote, h.stream instanceof KernelTlsSocket]).toEqual(['plain', undefined, true])
  })
})

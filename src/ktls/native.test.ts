// The addon against this machine's real kernel. The expected errno is read from the kernel's own
// list of ULPs (/proc/sys/net/ipv4/tcp_available_ulp), so the test holds on a kTLS kernel too.

import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, TLS_TX } from './constants.js'
import { CRYPTO_INFO_LAYOUT, encodeCryptoInfo } from './crypto-info.js'
import { fallbackReason } from './fallback-reason.js'
import { ADDON_PATH, errnoName, loadAddon, type KtlsAddon } from './native.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
let addon: KtlsAddon
let hasTlsUlp: boolean

beforeAll(() => {
  if (!existsSync(ADDON_PATH)) execFileSync('make', ['native'], { cwd: REPO, stdio: 'ignore' })
  const load = loadAddon()
  if (!load.ok) throw new Error(load.reason)
  addon = load.addon
  hasTlsUlp = readFileSync('/proc/sys/net/ipv4/tcp_available_ulp', 'utf8').split(/\s+/).includes('tls')
})

async function connectedPair(): Promise<{ client: net.Socket; close(): void }> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r))
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  await new Promise<void>((r) => client.once('connect', r))
  const peer = await accepted
  return { client, close: () => { client.destroy(); peer.destroy(); server.close() } }
}

const fdOf = (s: net.Socket) => (s as unknown as { _handle: { fd: number } })._handle.fd

describe('kTLS addon on this kernel', () => {
  it('was compiled with the same struct layout as the TypeScript encoder', () => {
    const l = addon.layout()
    expect([l.aes128, l.aes256, l.chacha]).toEqual([CRYPTO_INFO_LAYOUT[51].size, CRYPTO_INFO_LAYOUT[52].size, CRYPTO_INFO_LAYOUT[54].size])
    expect([l.aes128SaltOffset, l.aes256SaltOffset, l.chachaKeyOffset]).toEqual([CRYPTO_INFO_LAYOUT[51].salt[0], CRYPTO_INFO_LAYOUT[52].salt[0], CRYPTO_INFO_LAYOUT[54].key[0]])
  })

  it('setUlp on a connected socket returns the kernel\'s answer (ENOENT without a tls ULP)', async () => {
    const { client, close } = await connectedPair()
    const errno = addon.setUlp(fdOf(client))
    if (hasTlsUlp) {
      expect(errno).toBe(0)
      expect(addon.getUlp(fdOf(client))).toBe('tls')
    } else {
      expect(errnoName(errno)).toBe('ENOENT')
      expect(fallbackReason('ulp', errno)).toBe('ENOENT: the kernel has no tls ULP; try modprobe tls')
      expect(addon.getUlp(fdOf(client))).toBe('')
    }
    close()
  })

  it('SOL_TLS TLS_TX without the ULP is ENOPROTOOPT, and the key bytes are wiped after the call', async () => {
    const { client, close } = await connectedPair()
    const bytes = encodeCryptoInfo({ version: TLS_1_3_VERSION, cipherType: TLS_CIPHER_AES_GCM_128, iv: new Uint8Array(8).fill(1), key: new Uint8Array(16).fill(7), salt: new Uint8Array(4).fill(2), recSeq: new Uint8Array(8) })
    expect(errnoName(addon.setCryptoInfo(fdOf(client), TLS_TX, bytes))).toBe('ENOPROTOOPT')
    expect(bytes.every((b) => b === 0)).toBe(true)
    close()
  })

  it('probe() reports the ULP errno and, only when the ULP exists, per-suite answers', () => {
    const p = addon.probe()
    if (hasTlsUlp) {
      expect(p.ulp).toBe(0)
      expect(Object.keys(p.suites).sort()).toEqual(['tls12-51', 'tls12-52', 'tls12-54', 'tls13-51', 'tls13-52', 'tls13-54'])
    } else {
      expect(errnoName(p.ulp)).toBe('ENOENT')
      expect(p.suites).toEqual({})
    }
  })

  it('recvmsg on an idle non-blocking socket says EAGAIN instead of blocking', async () => {
    const { client, close } = await connectedPair()
    client.pause()
    const r = addon.recvmsg(fdOf(client), new Uint8Array(64))
    expect([r.n, errnoName(r.errno)]).toEqual([-1, 'EAGAIN'])
    close()
  })

  it('argument misuse throws a TypeError instead of crashing', () => {
    expect(() => addon.setUlp('3' as unknown as number)).toThrow(TypeError)
    expect(() => addon.setCryptoInfo(0, 9, new Uint8Array(40))).toThrow(TypeError)
  })

  it('a missing addon becomes a fallback reason, never a crash', () => {
    const r = loadAddon('/nonexistent/sultry_ktls.node')
    expect(r.ok).toBe(false)
    expect(!r.ok && r.reason).toMatch(/^addon not built: Cannot find module/)
  })
})

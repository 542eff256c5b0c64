// The fallback path on this machine, against real peers: openssl s_server and nginx, TLS 1.2 and
// 1.3, the three kernel-capable AEAD suites, a multi-MB body checked by SHA-256, and the kTLS
// reason, which must come from the kernel's real answer to setsockopt(TCP_ULP, "tls").

import { execFileSync, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetch, formatKtls, type KtlsReport } from './fetch.js'
import { ADDON_PATH } from './native.js'
import { makeLabPki, startNginx, startSServer, type LabPki } from './testkit/peers.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const BIG = 4 * 1024 * 1024 + 123

let pki: LabPki
let root: string
let bigSha: string
let textSha: string
let hasTlsUlp: boolean
const ENOENT_REASON = 'ENOENT: the kernel has no tls ULP; try modprobe tls'
/** What the report must say: kTLS on where the kernel has the tls ULP, else the kernel's ENOENT. */
const expectedKtls = (cipher: string): KtlsReport => (hasTlsUlp ? { tx: true, rx: true, cipher, io: 'plain' } : { off: ENOENT_REASON })
const stops: Array<() => void> = []

beforeAll(() => {
  pki = makeLabPki()
  root = mkdtempSync(join(tmpdir(), 'sultry-fetch-root-'))
  chmodSync(root, 0o755) // nginx workers run unprivileged
  const big = randomBytes(BIG)
  writeFileSync(join(root, 'big'), big)
  bigSha = createHash('sha256').update(big).digest('hex')
  const text = Buffer.from(Array.from({ length: 60_000 }, (_, i) => `line ${i} of the chunked body\n`).join(''))
  writeFileSync(join(root, 'text'), text)
  textSha = createHash('sha256').update(text).digest('hex')
  if (!existsSync(ADDON_PATH)) execFileSync('make', ['native'], { cwd: REPO, stdio: 'ignore' })
  // What the kernel will say: this is read from the kernel, not assumed.
  const ulps = readFileSync('/proc/sys/net/ipv4/tcp_available_ulp', 'utf8').split(/\s+/)
  hasTlsUlp = ulps.includes('tls')
})
afterAll(() => stops.forEach((s) => s()))

const suites = [
  { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' },
  { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  { protocol: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256' },
  { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' },
  { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384' },
  { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-CHACHA20-POLY1305' },
] as const

describe('fetch fallback vs openssl s_server (-WWW, body to EOF)', () => {
  for (const s of suites) {
    it(`${s.protocol} ${s.cipher}`, async () => {
      const args = s.protocol === 'TLSv1.3' ? ['-tls1_3', '-ciphersuites', s.cipher] : ['-tls1_2', '-cipher', s.cipher]
      const peer = await startSServer(pki, ['-WWW', ...args], root)
      stops.push(peer.stop)
      const res = await fetch(`https://127.0.0.1:${peer.port}/big`, { ca: pki.caPem })
      expect([res.status, res.protocol, res.cipher]).toEqual([200, s.protocol, s.cipher])
      expect(res.bytes).toBe(BIG)
      expect(res.sha256).toBe(bigSha)
      expect(createHash('sha256').update(res.body!).digest('hex')).toBe(bigSha)
      expect(res.ktls).toEqual(expectedKtls(s.cipher))
    })
  }
})

describe('fetch fallback vs nginx', () => {
  let ports: number[] = []
  beforeAll(async () => {
    const servers = [
      { protocols: 'TLSv1.2 TLSv1.3' },
      ...suites.map((s) => (s.protocol === 'TLSv1.3' ? { protocols: 'TLSv1.3', tls13Suites: s.cipher } : { protocols: 'TLSv1.2', ciphers: s.cipher })),
    ]
    const nginx = await startNginx(pki, root, servers)
    stops.push(nginx.stop)
    ports = nginx.ports
  })

  suites.forEach((s, i) => {
    it(`${s.protocol} ${s.cipher}: Content-Length body, sha256 checked`, async () => {
      const out = join(root, `out-${i}`)
      const res = await fetch(`https://127.0.0.1:${ports[i + 1]}/big`, { ca: pki.caPem, output: out })
      expect([res.status, res.protocol, res.cipher]).toEqual([200, s.protocol, s.cipher])
      expect(res.headers.find(([n]) => n.toLowerCase() === 'content-length')?.[1]).toBe(String(BIG))
      expect(res.body).toBeUndefined()
      expect(res.sha256).toBe(bigSha)
      expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(bigSha)
      expect(formatKtls(res.ktls)).toBe(formatKtls(expectedKtls(s.cipher)))
    })
  })

  it('reads a chunked body (HTTP/1.1 Transfer-Encoding: chunked)', async () => {
    const progress: number[] = []
    const res = await fetch(`https://127.0.0.1:${ports[0]}/chunked/text`, { ca: pki.caPem, onProgress: (n) => progress.push(n) })
    expect(res.headers.find(([n]) => n.toLowerCase() === 'transfer-encoding')?.[1]).toBe('chunked')
    expect(res.sha256).toBe(textSha)
    expect(res.protocol).toBe('TLSv1.3')
    expect(progress.at(-1)).toBe(res.bytes)
  })

  it('streams the body to onBody instead of keeping it', async () => {
    const hash = createHash('sha256')
    const res = await fetch(`https://127.0.0.1:${ports[0]}/big`, { ca: pki.caPem, onBody: (c) => hash.update(c) })
    expect([res.body, res.bytes, res.sha256, hash.digest('hex')]).toEqual([undefined, BIG, bigSha, bigSha])
  })

  it('follows a redirect only when asked', async () => {
    const url = `https://127.0.0.1:${ports[0]}/redirect`
    const stay = await fetch(url, { ca: pki.caPem })
    expect([stay.status, stay.redirects.length]).toEqual([302, 0])
    const go = await fetch(url, { ca: pki.caPem, followRedirects: true })
    expect([go.status, go.url, go.redirects, go.sha256]).toEqual([200, `https://127.0.0.1:${ports[0]}/big`, [url], bigSha])
  })

  it('refuses an untrusted certificate unless told --insecure, and honours ktls off', async () => {
    const url = `https://127.0.0.1:${ports[0]}/text`
    await expect(fetch(url)).rejects.toThrow(/TLS with 127\.0\.0\.1.*(self-signed|unable to (get|verify))/)
    const res = await fetch(url, { insecure: true, ktls: 'off' })
    expect([res.status, res.sha256, res.ktls]).toEqual([200, textSha, { off: 'disabled with --ktls off' }])
  })

  it('ktls require: an error carrying the kernel\'s reason where it is unavailable, kTLS on where it is', async () => {
    const req = fetch(`https://127.0.0.1:${ports[0]}/big`, { ca: pki.caPem, ktls: 'require' })
    if (hasTlsUlp) expect((await req).ktls).toEqual({ tx: true, rx: true, cipher: 'TLS_AES_256_GCM_SHA384', io: 'plain' })
    else await expect(req).rejects.toMatchObject({ reason: ENOENT_REASON })
  })

  describe('the CLI as a child process', () => {
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/ktls/testkit/fetch-cli.ts'), ...args], { cwd: REPO })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d: Buffer) => (stdout += d.length > 4096 ? `<${d.length} bytes>` : d.toString()))
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
        child.on('close', (code) => resolve({ code, stdout, stderr }))
      })

    it('-o FILE: exit 0, ktls line, sha256 and size on stderr', async () => {
      const out = join(root, 'cli-out')
      const r = await cli([`https://127.0.0.1:${ports[0]}/big`, '--ca', pki.caFile, '-o', out])
      expect(r.code).toBe(0)
      expect(r.stderr).toContain(formatKtls(expectedKtls('TLS_AES_256_GCM_SHA384')))
      expect(r.stderr).toContain(`sha256 ${bigSha}  ${BIG} bytes  ${out}`)
      expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(bigSha)
    })

    it('--ktls require: exit 3 with the reason (exit 0 with kTLS on where the kernel has it)', async () => {
      const r = await cli([`https://127.0.0.1:${ports[0]}/text`, '--ca', pki.caFile, '--ktls', 'require'])
      expect(r.stderr).toContain(formatKtls(expectedKtls('TLS_AES_256_GCM_SHA384')))
      expect(r.code).toBe(hasTlsUlp ? 0 : 3)
      if (!hasTlsUlp) expect(r.stdout).toBe('')
    })

    it('exit 1 on a transport failure, 2 on bad usage; --help documents the exit codes', async () => {
      expect((await cli([`https://127.0.0.1:${ports[0]}/big`])).code).toBe(1) // lab CA not trusted
      expect((await cli([`https://127.0.0.1:${ports[0]}/nope`, '--ca', pki.caFile])).code).toBe(1) // 404
      expect((await cli(['--ktls', 'sometimes', 'https://x/'])).code).toBe(2)
      const help = await cli(['--help'])
      expect(help.code).toBe(0)
      expect(help.stdout).toMatch(/Exit codes:[\s\S]*3 {2}--ktls require/)
    })
  })
})

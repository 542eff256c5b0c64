// oob-relay end to end with real processes: `sultry oob-server` and `sultry proxy` as children,
// curl through the proxy to openssl s_server / nginx. Wrong key, replayed AUTH and private targets
// are refused; killing the helper mid-transfer fails that transfer cleanly while the proxy goes on.

import { createHash, X509Certificate } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { labTls } from '../../lab/fixtures/index.js'
import { liveWorld } from '../net/live/world.js'
import { connectTls } from '../tls/connect.js'
import { concatBytes } from '../wire/bytes.js'
import { authMac, CLIENT_LABEL } from './oob/auth.js'
import { encodeFrame, OOB_VERSION, type OobFrame } from './oob/frame.js'
import { FrameReader } from './oob/frame-reader.js'
import { curl, freePort, nginxServer, opensslServer, type Peer, repoRoot, startProcess, tempDir } from './testkit/peers.js'

const fx = labTls()
const dir = tempDir()
const keyHex = 'a1'.repeat(32)
const keyFile = join(dir, 'psk.hex')
const wrongKeyFile = join(dir, 'wrong.hex')
const caFile = join(dir, 'ca.pem')
const fixtures = join(repoRoot, 'lab', 'fixtures')
const body = `through the helper ${Date.now()}\n`.repeat(50)
const peers: Peer[] = []
let origin: Peer
let nginx: Peer
const big = Buffer.alloc(24 * 1024 * 1024)

function sultry(name: string, args: string[], ready: RegExp, port: number): Promise<Peer> {
  return startProcess('node', ['--import', 'tsx', 'src/proxy/testkit/run-cli.ts', name, ...args], { ready, port, timeoutMs: 30000 }).then((p) => (peers.push(p), p))
}

async function helper(extra: string[] = []): Promise<{ peer: Peer; pin: string }> {
  const port = await freePort()
  const peer = await sultry('oob-server', ['--listen', `127.0.0.1:${port}`, '--key', keyFile, '--cert', join(fixtures, 'server.crt'), '--key-file', join(fixtures, 'server.key'), '--map', 'server.lab.test=127.0.0.1', ...extra], /pin: [0-9a-f]{64}/, port)
  return { peer, pin: /pin: ([0-9a-f]{64})/.exec(peer.output())![1] }
}

async function proxy(h: { peer: Peer; pin: string }, key = keyFile, extra: string[] = []): Promise<Peer> {
  const port = await freePort()
  return sultry('proxy', ['--listen', `127.0.0.1:${port}`, '--strategy', 'oob-relay', '--oob', `127.0.0.1:${h.peer.port}`, '--oob-key', key, '--oob-cover-sni', 'cover.example.org', '--oob-pin', h.pin, '--status', ...extra], /listening/, port)
}

beforeAll(async () => {
  writeFileSync(keyFile, keyHex + '\n')
  writeFileSync(wrongKeyFile, 'b2'.repeat(32))
  writeFileSync(caFile, fx.caCert)
  writeFileSync(join(dir, 'page.txt'), body)
  origin = await opensslServer(dir, fx.serverCert, fx.serverKey)
  for (let i = 0; i < big.length; i += 4) big.writeUInt32BE((i * 2654435761) >>> 0, i)
  const nd = tempDir('sultry-nginx-')
  writeFileSync(join(nd, 'big.bin'), big)
  nginx = await nginxServer(nd, fx.serverCert, fx.serverKey)
}, 60_000)

afterAll(async () => {
  for (const p of peers) await p.kill()
  await origin?.kill()
  await nginx?.kill()
  rmSync(dir, { recursive: true, force: true })
})

describe('oob-relay through real sultry oob-server and sultry proxy processes', () => {
  it('curl via HTTP CONNECT and SOCKS5 gets the page; SIGUSR1 and /status report it', async () => {
    const h = await helper(['--allow-private'])
    const p = await proxy(h)
    const url = `https://server.lab.test:${origin.port}/page.txt`
    const a = await curl(['--cacert', caFile, '-x', `http://127.0.0.1:${p.port}`, url])
    expect(a.stderr).toBe('')
    expect(a.stdout.toString()).toBe(body)
    const b = await curl(['--cacert', caFile, '--socks5-hostname', `127.0.0.1:${p.port}`, url])
    expect(b.stdout.toString()).toBe(body)
    p.proc.kill('SIGUSR1')
    for (let i = 0; i < 100 && !/connections=/.test(p.output()); i++) await new Promise((r) => setTimeout(r, 20))
    expect(p.output()).toMatch(/connections=2 active=\d+ direct=0 tcp-split=0 record-split=0 oob-resolve=0 oob-relay=2 .*failures=0/)
    const status = JSON.parse((await curl([`http://127.0.0.1:${p.port}/status`])).stdout.toString())
    expect(status.strategies['oob-relay']).toBe(2)
    expect(status.bytes.down).toBeGreaterThan(body.length * 2)
    expect(h.peer.output()).toMatch(/authenticated/)
  }, 60_000)

  it('--resolve-locally lets the system resolver answer; without it (and no helper) the name is refused with 502', async () => {
    const port = await freePort()
    const local = await sultry('proxy', ['--listen', `127.0.0.1:${port}`, '--strategy', 'record-split', '--resolve-locally'], /listening/, port)
    const ok = await curl(['-k', '-x', `http://127.0.0.1:${local.port}`, `https://localhost:${origin.port}/page.txt`])
    expect(ok.stdout.toString()).toBe(body)
    const port2 = await freePort()
    const strict = await sultry('proxy', ['--listen', `127.0.0.1:${port2}`, '--strategy', 'record-split'], /listening/, port2)
    const no = await curl(['-k', '-x', `http://127.0.0.1:${strict.port}`, `https://localhost:${origin.port}/page.txt`])
    expect(no.code).not.toBe(0)
    expect(no.stderr).toMatch(/502/)
    expect(strict.output()).toMatch(/localhost:\d+: cannot resolve: no resolver allowed for localhost/)
  }, 60_000)

  it('oob-server without --cert makes a self-signed certificate and prints its pin; the proxy pins it', async () => {
    const port = await freePort()
    const peer = await sultry('oob-server', ['--listen', `127.0.0.1:${port}`, '--key', keyFile, '--allow-private', '--map', 'server.lab.test=127.0.0.1'], /pin: [0-9a-f]{64}/, port)
    const pin = /pin: ([0-9a-f]{64})/.exec(peer.output())![1]
    expect(pin).not.toBe(createHash('sha256').update(new X509Certificate(readFileSync(join(fixtures, 'server.crt'))).raw).digest('hex'))
    const p = await proxy({ peer, pin })
    const r = await curl(['--cacert', caFile, '-x', `http://127.0.0.1:${p.port}`, `https://server.lab.test:${origin.port}/page.txt`])
    expect(r.stdout.toString()).toBe(body)
  }, 60_000)

  it('oob-resolve: only the lookup goes to the helper, the data goes direct (split)', async () => {
    const h = await helper(['--allow-private'])
    const port = await freePort()
    const p = await sultry('proxy', ['--listen', `127.0.0.1:${port}`, '--strategy', 'oob-resolve', '--oob', `127.0.0.1:${h.peer.port}`, '--oob-key', keyFile, '--oob-pin', h.pin], /listening/, port)
    const r = await curl(['--cacert', caFile, '--socks5-hostname', `127.0.0.1:${p.port}`, `https://server.lab.test:${origin.port}/page.txt`])
    expect(r.stderr).toBe('')
    expect(r.stdout.toString()).toBe(body)
    expect(p.output()).toMatch(/server\.lab\.test:\d+: oob-resolve sni=server\.lab\.test/)
    h.peer.proc.kill('SIGUSR1')
    for (let i = 0; i < 100 && !/"sessions"/.test(h.peer.output()); i++) await new Promise((r) => setTimeout(r, 20))
    const stats = JSON.parse(/oob-server: (\{.*"sessions".*\})/.exec(h.peer.output())![1])
    expect(stats).toMatchObject({ sessions: 1, streamsOpened: 0, bytes: 0 })
  }, 60_000)

  it('refuses a private target without --allow-private, and a proxy holding the wrong key', async () => {
    const strict = await helper()
    const p = await proxy(strict)
    const r = await curl(['--cacert', caFile, '-x', `http://127.0.0.1:${p.port}`, `https://server.lab.test:${origin.port}/page.txt`])
    expect(r.code).not.toBe(0)
    expect(r.stdout.length).toBe(0)
    expect(strict.peer.output()).toMatch(/server\.lab\.test:\d+ refused: .*private/)

    const open = await helper(['--allow-private'])
    const wrong = await proxy(open, wrongKeyFile)
    const w = await curl(['--cacert', caFile, '-x', `http://127.0.0.1:${wrong.port}`, `https://server.lab.test:${origin.port}/page.txt`])
    expect(w.code).not.toBe(0)
    expect(open.peer.output()).toMatch(/not authenticated/)
    expect(open.peer.output()).not.toMatch(/authenticated\n/)
  }, 60_000)

  it('rejects an AUTH replayed on a new connection', async () => {
    const h = await helper(['--allow-private'])
    const world = liveWorld()
    const session = async () => {
      const tls = await connectTls(world, await world.net.connect('127.0.0.1', h.peer.port), { servername: 'cover.example.org', rejectUnauthorized: false })
      tls.on('error', () => {})
      const frames: OobFrame[] = []
      let ended = false
      const reader = new FrameReader()
      tls.on('data', (d: Buffer) => reader.push(d).forEach((e) => e.kind === 'frame' && frames.push(e.frame)))
      tls.on('end', () => (ended = true))
      const next = async () => {
        for (let i = 0; i < 200 && frames.length === 0 && !ended; i++) await new Promise((r) => setTimeout(r, 10))
        return frames.shift()
      }
      return { tls, next }
    }
    const s1 = await session()
    const hello = await s1.next()
    if (hello?.type !== 'hello') throw new Error('expected HELLO')
    const nonce = new Uint8Array(32).fill(3)
    const auth = encodeFrame({ type: 'auth', version: OOB_VERSION, clientNonce: nonce, mac: authMac(Buffer.from(keyHex, 'hex'), CLIENT_LABEL, hello.serverNonce, nonce) })
    s1.tls.write(auth)
    expect((await s1.next())?.type).toBe('auth-ok')
    s1.tls.destroy()
    const s2 = await session()
    expect((await s2.next())?.type).toBe('hello')
    s2.tls.write(concatBytes(auth, encodeFrame({ type: 'resolve', stream: 1, host: 'server.lab.test' })))
    expect(await s2.next()).toBeUndefined()
    for (let i = 0; i < 100 && !/not authenticated/.test(h.peer.output()); i++) await new Promise((r) => setTimeout(r, 20))
    expect(h.peer.output()).toMatch(/not authenticated: .*authFailed/)
  }, 60_000)

  it('killing the helper mid-transfer: curl gets a clean error, the proxy serves again once a helper is back', async () => {
    const h = await helper(['--allow-private'])
    const p = await proxy(h)
    const url = `https://server.lab.test:${nginx.port}/big.bin`
    const transfer = curl(['--cacert', caFile, '--limit-rate', '2M', '-o', join(dir, 'partial.bin'), '-x', `http://127.0.0.1:${p.port}`, url], 60000)
    await new Promise((r) => setTimeout(r, 1500))
    await h.peer.kill()
    const r = await transfer
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/curl: \((18|35|52|56|92)\)/)
    // The proxy process is alive and answers.
    expect(p.proc.exitCode).toBeNull()
    const status = JSON.parse((await curl([`http://127.0.0.1:${p.port}/status`])).stdout.toString())
    expect(status.failures).toBeGreaterThanOrEqual(1)
    // A new helper on the same port: the proxy's pool reconnects and the full file arrives intact.
    await sultry('oob-server', ['--listen', `127.0.0.1:${h.peer.port}`, '--key', keyFile, '--cert', join(fixtures, 'server.crt'), '--key-file', join(fixtures, 'server.key'), '--map', 'server.lab.test=127.0.0.1', '--allow-private'], /pin:/, h.peer.port)
    const out = join(dir, 'full.bin')
    const t0 = Date.now()
    const again = await curl(['--cacert', caFile, '-o', out, '-x', `http://127.0.0.1:${p.port}`, url], 60000)
    expect(again.stderr).toBe('')
    console.log(`oob-relay: ${big.length / 2 ** 20} MiB in ${Date.now() - t0} ms (${((big.length / 2 ** 20) / ((Date.now() - t0) / 1000)).toFixed(1)} MiB/s, processes + reconnect included)`)
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
    expect(sha(readFileSync(out))).toBe(sha(big))
  }, 90_000)
})

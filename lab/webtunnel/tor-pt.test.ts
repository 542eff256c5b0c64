// Stock Debian tor on both ends of our WebTunnel PT, on the lab's private Tor network
// (lab/tor-testnet): a bridge tor runs `webtunnel-server` as its ServerTransportPlugin with an
// ExtORPort, nginx (lab CA) fronts it on a secret path, and a client tor with UseBridges 1 runs
// `webtunnel-client` as its ClientTransportPlugin with the bridge line built from the server's
// SMETHOD. The client must bootstrap to 100% and fetch a local page through its SOCKS port.

import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import * as http from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServerPort } from '../tor-testnet/layout.js'
import { startTestnet, type Testnet } from '../tor-testnet/testnet.js'
import * as tls from 'node:tls'
import { liveWorld } from '../../src/net/live/world.js'
import { formatBridgeLine } from '../../src/webtunnel/bridge-line.js'
import { parseExtOrCookieFile } from '../../src/webtunnel/ext-orport.js'
import { connectBridge } from '../../src/webtunnel/server.js'
import { clientConfigFromArgs } from '../../src/webtunnel/client-config.js'
import { dialWebTunnel } from '../../src/webtunnel/client.js'
import { framingDuplex } from './misbehaving-clients.js'
import { bridgesWithTransports } from '../../src/webtunnel/tor-world.js'
import { TorClient } from '../../src/tor/client.js'
import type { World } from '../../src/net/world.js'
import { placeholderAddress } from '../../src/webtunnel/placeholder-address.js'
import { makeLabCa } from '../peers/pki.js'
import { startNginxFront, type NginxFront } from './nginx.js'
import { stopChild } from '../peers/process.js'

/** The port block the testnet claimed (B+80.. are free for this test's own servers). */
let BASE = 0
const NAME = 'webtunnel.lab.test'
const SECRET = '/d2VidHVubmVsLWxhYg'
const REPO = resolve(new URL('../..', import.meta.url).pathname)
// tor runs the PTs exactly as a user would configure it: `exec node bin/sultry.js webtunnel-…`.
const PT = `${process.execPath} ${join(REPO, 'bin/sultry.js')}`
const PAGE = 'hello through webtunnel\n'
const BIG = randomBytes(20 * 1024 * 1024)
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

const dir = mkdtempSync(join(tmpdir(), 'sultry-wt-tor-'))
let net: Testnet | undefined
let nginx: NginxFront | undefined
let page: http.Server
const tors: ChildProcess[] = []
let bridgeFingerprint = ''
let bridgeLine = ''
let bridgeDir = ''
let pkiCa = ''
let tunnelArgs: [string, string][] = []
const timings: Record<string, number> = {}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function startTor(name: string, lines: string[]): { dir: string; child: ChildProcess } {
  const d = join(dir, name)
  mkdirSync(d, { recursive: true })
  chmodSync(d, 0o700)
  writeFileSync(join(d, 'torrc'), [
    'TestingTorNetwork 1',
    `DataDirectory ${d}`,
    `Log notice file ${d}/notice.log`,
    'SafeLogging 0',
    'UseDefaultFallbackDirs 0',
    `GeoIPFile ${dir}/empty`,
    `GeoIPv6File ${dir}/empty`,
    `__OwningControllerProcess ${process.pid}`,
    ...net!.authorities.map((a) => `DirAuthority ${a}`),
    ...lines,
  ].join('\n') + '\n')
  const child = spawn('/usr/sbin/tor', ['--defaults-torrc', join(dir, 'empty'), '-f', join(d, 'torrc')], { stdio: 'ignore' })
  tors.push(child)
  return { dir: d, child }
}

async function waitForLog(file: string, text: string | RegExp, ms: number): Promise<string> {
  const until = Date.now() + ms
  for (;;) {
    const log = existsSync(file) ? readFileSync(file, 'utf8') : ''
    const m = typeof text === 'string' ? (log.includes(text) ? text : null) : text.exec(log)?.[0]
    if (m) return m
    if (Date.now() > until) throw new Error(`no ${text} in ${file} after ${ms} ms:\n${log.slice(-3000)}`)
    await sleep(250)
  }
}

beforeAll(async () => {
  const t0 = Date.now()
  writeFileSync(join(dir, 'empty'), '')
  net = await startTestnet(join(dir, 'net'), { basePort: 'auto' })
  BASE = net.basePort
  page = http.createServer((q, r) => r.end(q.url === '/big' ? BIG : PAGE))
  await new Promise<void>((r) => page.listen(testServerPort(BASE), '127.0.0.1', r))
  timings.testnet = Date.now() - t0
  const pki = makeLabCa(dir, { names: [NAME], ips: ['127.0.0.1'] })
  const ptPort = testServerPort(BASE, 3)
  nginx = await startNginxFront({ dir: join(dir, 'nginx'), serverName: NAME, certFile: pki.certFile, keyFile: pki.keyFile, secretPath: SECRET, upstreamPort: ptPort, siteHtml: 'an ordinary site\n' })
  pkiCa = pki.caPem
  const url = `https://${NAME}:${nginx.port}${SECRET}`
  tunnelArgs = [['url', url], ['addr', `127.0.0.1:${nginx.port}`]]
  const bridge = startTor('wtbridge', [
    'Nickname wtbridge',
    'SocksPort 0',
    `ORPort 127.0.0.1:${testServerPort(BASE, 1)}`,
    'Address 127.0.0.1',
    'AddressDisableIPv6 1',
    'AssumeReachable 1',
    'BridgeRelay 1',
    'PublishServerDescriptor 0',
    'BridgeDistribution none',
    'BridgeRecordUsageByCountry 0',
    'FetchDirInfoEarly 1',
    'ExitRelay 0',
    'ExitPolicy reject *:*',
    `ExtORPort 127.0.0.1:${testServerPort(BASE, 2)}`,
    `ServerTransportPlugin webtunnel exec ${PT} webtunnel-server`,
    `ServerTransportListenAddr webtunnel 127.0.0.1:${ptPort}`,
    `ServerTransportOptions webtunnel url=${url}`,
  ])
  const registered = await waitForLog(join(bridge.dir, 'notice.log'), /Registered server transport 'webtunnel' at '[^']+'/, 60_000)
  expect(registered).toContain(`[${placeholderAddress(url)}]:443`)
  bridgeDir = bridge.dir
  bridgeFingerprint = readFileSync(join(bridge.dir, 'fingerprint'), 'utf8').trim().split(/\s+/)[1]
  // The bridge must hold a consensus before clients can bootstrap through it.
  await waitForLog(join(bridge.dir, 'notice.log'), /Bootstrapped 100%|now have enough directory information/, 90_000)
  timings.bridgeReady = Date.now() - t0
  bridgeLine = formatBridgeLine({
    transport: 'webtunnel', address: placeholderAddress(url), port: 443, fingerprint: bridgeFingerprint,
    // addr=: the lab name has no DNS entry; SNI and Host stay webtunnel.lab.test.
    args: [['url', url], ['addr', `127.0.0.1:${nginx.port}`]],
  })
}, 240_000)

afterAll(async () => {
  // Bounded: a bridge tor that does not leave within 15 s of SIGTERM is killed, and said so.
  const how = await Promise.all(tors.map((t) => stopChild(t, 15_000)))
  if (how.includes('kill')) console.log(`tor processes needing SIGKILL after 15 s: ${tors.filter((_, i) => how[i] === 'kill').map((t) => t.pid).join(' ')}`)
  await nginx?.stop()
  await net?.stop()
  page?.close()
  rmSync(dir, { recursive: true, force: true })
}, 60_000)

describe('stock tor through our WebTunnel PT', () => {
  it('our Extended ORPort client authenticates to the real bridge, and its OR link answers VERSIONS', async () => {
    const world = liveWorld()
    const cookieFile = join(bridgeDir, 'extended_orport_auth_cookie')
    const opts = (cookie: () => Promise<Uint8Array>) => ({ bridge: { host: '127.0.0.1', port: testServerPort(BASE, 2), extOrCookie: cookie }, transport: 'webtunnel' })
    const or = await connectBridge(world, opts(async () => parseExtOrCookieFile(readFileSync(cookieFile))), '192.0.2.44:60000')
    const link = tls.connect({ socket: or, rejectUnauthorized: false })
    await new Promise<void>((r, j) => link.once('secureConnect', r).once('error', j))
    // VERSIONS cell (tor-spec §4.1): CircID 0 (2 bytes), CMD 7, LENGTH 6, versions 3 4 5.
    link.write(Buffer.from([0, 0, 7, 0, 6, 0, 3, 0, 4, 0, 5]))
    const reply = await new Promise<Buffer>((r) => link.once('data', r))
    expect(reply[2]).toBe(7)
    link.destroy()
    // A wrong cookie: our client refuses tor's ServerHash (it cannot match) and never sends ClientHash.
    const wrong = new Uint8Array(32).fill(7)
    await expect(connectBridge(world, opts(async () => wrong), '192.0.2.44:60000')).rejects.toThrow(/ServerHash/)
  }, 30_000)

  it('the real bridge gives a link to our unframed client and none to a client that frames after the 101', async () => {
    const world = liveWorld()
    const good = await dialWebTunnel(world, clientConfigFromArgs(tunnelArgs), { ca: pkiCa })
    const goodLink = tls.connect({ socket: good, rejectUnauthorized: false })
    await new Promise<void>((r, j) => goodLink.once('secureConnect', r).once('error', j))
    goodLink.destroy()
    const bad = await dialWebTunnel(world, clientConfigFromArgs(tunnelArgs), { ca: pkiCa })
    const fromBridge: Buffer[] = []
    const framed = framingDuplex(bad, Uint8Array.of(1, 2, 3, 4))
    bad.on('data', (b: Buffer) => fromBridge.push(b))
    const badLink = tls.connect({ socket: framed, rejectUnauthorized: false })
    let secure = false
    badLink.on('secureConnect', () => (secure = true))
    badLink.on('error', () => {})
    await sleep(3000)
    expect(secure).toBe(false)
    expect(Buffer.concat(fromBridge).length).toBe(0) // not even a ServerHello from tor
    badLink.destroy()
    bad.destroy()
  }, 30_000)

  /** Bootstraps our Tor client with `bridge`, fetches the page and 20 MiB; returns the timings. */
  async function ourTorClient(world: World, bridge: string): Promise<{ bootstrapMs: number; bigMs: number }> {
    const t0 = Date.now()
    const tor = await TorClient.create(world, { authorities: net!.authorities, bridges: [bridge], testingNetwork: true })
    const bootstrapMs = Date.now() - t0
    const get = async (path: string) => {
      const s = await tor.connect('127.0.0.1', testServerPort(BASE))
      s.end(`GET ${path} HTTP/1.0\r\n\r\n`)
      const reply = await new Promise<Buffer>((r, j) => {
        const parts: Buffer[] = []
        s.on('data', (b: Buffer) => parts.push(b))
        s.once('end', () => r(Buffer.concat(parts)))
        s.once('error', j)
      })
      return reply.subarray(reply.indexOf('\r\n\r\n') + 4)
    }
    try {
      expect((await get('/')).toString()).toBe(PAGE)
      const t1 = Date.now()
      const big = await get('/big')
      const bigMs = Date.now() - t1
      expect(big.length).toBe(BIG.length)
      expect(sha256(big)).toBe(sha256(BIG))
      expect(tor.openCircuits.every((c) => c.path[0] === 'wtbridge')).toBe(true)
      return { bootstrapMs, bigMs }
    } finally {
      await tor.close()
    }
  }

  it('our Tor client (src/tor) bootstraps through the WebTunnel bridge and fetches the page and 20 MiB', async () => {
    const base = liveWorld()
    // Loopback only: anything else would be a bug in the interception below.
    const loopbackOnly: World = { ...base, net: { ...base.net, connect: (h, p) => (h === '127.0.0.1' ? base.net.connect(h, p) : Promise.reject(new Error(`refusing ${h}:${p}`))) } }
    // The same bridge line stock tor gets: its 2001:db8 placeholder is only reachable through the
    // WebTunnel World that bridgesWithTransports wraps around ours.
    const { world, bridges } = bridgesWithTransports(loopbackOnly, [bridgeLine], { ca: pkiCa })
    expect(bridges[0]).toMatch(/^\[2001:db8:/)
    const r = await ourTorClient(world, bridges[0])
    timings.ourTorViaWebTunnelBootstrap = r.bootstrapMs
    timings.ourTorViaWebTunnelBig20MiB = r.bigMs
    // The same client straight to the same bridge's ORPort, for the ratios printed below.
    const d = await ourTorClient(liveWorld(), `127.0.0.1:${testServerPort(BASE, 1)} ${bridgeFingerprint}`)
    timings.ourTorDirectBootstrap = d.bootstrapMs
    timings.ourTorDirectBig20MiB = d.bigMs
  }, 180_000)

  it('sultry tor --bridge "webtunnel …" bootstraps through the bridge and serves the page on its SOCKS port', async () => {
    const socksPort = testServerPort(BASE, 5)
    writeFileSync(join(dir, 'ca-for-cli.crt'), pkiCa)
    const child = spawn(process.execPath, [join(REPO, 'bin/sultry.js'), 'tor', '--testnet', join(dir, 'net'), '--bridge', bridgeLine, '--ca', join(dir, 'ca-for-cli.crt'), '--socks', `127.0.0.1:${socksPort}`], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    try {
      const deadline = Date.now() + 60_000
      while (!/SOCKS5 \/ SOCKS4a \/ HTTP CONNECT on/.test(stderr)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`sultry tor did not come up: ${stderr}`)
        await sleep(100)
      }
      expect(stderr).toMatch(/Bootstrapped 100%/)
      const body = await new Promise<string>((res, rej) =>
        execFile('curl', ['-s', '--max-time', '60', '--socks5-hostname', `127.0.0.1:${socksPort}`, `http://127.0.0.1:${testServerPort(BASE)}/`], (e, so) => (e ? rej(e) : res(so))),
      )
      expect(body).toBe(PAGE)
    } finally {
      await stopChild(child)
    }
  }, 120_000)

  it('a tor client with UseBridges 1 and our bridge line bootstraps to 100% and fetches a local page', async () => {
    const t0 = Date.now()
    const socksPort = testServerPort(BASE, 4)
    const client = startTor('wtclient', [
      `SocksPort 127.0.0.1:${socksPort}`,
      'UseBridges 1',
      `Bridge ${bridgeLine}`,
      `ClientTransportPlugin webtunnel exec ${PT} webtunnel-client --ca ${join(dir, 'ca.crt')}`,
    ])
    await waitForLog(join(client.dir, 'notice.log'), 'Bootstrapped 100%', 150_000)
    timings.clientBootstrap = Date.now() - t0
    const log = readFileSync(join(client.dir, 'notice.log'), 'utf8')
    expect(log).toMatch(/new bridge descriptor 'wtbridge'/)
    const body = await new Promise<string>((res, rej) =>
      execFile('curl', ['-s', '--max-time', '60', '--socks5-hostname', `127.0.0.1:${socksPort}`, `http://127.0.0.1:${testServerPort(BASE)}/`], (e, so) => (e ? rej(e) : res(so))),
    )
    expect(body).toBe(PAGE)
    const started = Date.now()
    const big = await new Promise<Buffer>((res, rej) =>
      execFile('curl', ['-s', '--max-time', '120', '--socks5-hostname', `127.0.0.1:${socksPort}`, `http://127.0.0.1:${testServerPort(BASE)}/big`], { encoding: 'buffer', maxBuffer: 64 << 20 }, (e, so) => (e ? rej(e) : res(so))),
    )
    timings.big20MiB = Date.now() - started
    expect(big.length).toBe(BIG.length)
    expect(sha256(big)).toBe(sha256(BIG))
    // The bridge's only address in the line is unroutable (2001:db8::/32), so the PT carried all of
    // it; nginx confirms: it logs each upgraded request when its tunnel closes, so stop the client.
    await stopChild(client.child, 15_000)
    await waitForLog(join(nginx!.dir, 'access.log'), new RegExp(`"GET ${SECRET} HTTP/1.1" 101 `), 20_000)
    console.log(`webtunnel + stock tor: ${bridgeLine}\ntimings (ms): ${JSON.stringify(timings)}`)
    const t = timings
    if (t.ourTorViaWebTunnelBootstrap !== undefined) {
      const ratio = (a: number, b: number) => (a / Math.max(1, b)).toFixed(2)
      console.log(
        `our Tor client via WebTunnel: bootstrap ${t.ourTorViaWebTunnelBootstrap} ms, 20 MiB in ${t.ourTorViaWebTunnelBig20MiB} ms\n` +
          `  vs the same client direct to the bridge (${t.ourTorDirectBootstrap} ms, ${t.ourTorDirectBig20MiB} ms): bootstrap x${ratio(t.ourTorViaWebTunnelBootstrap, t.ourTorDirectBootstrap)}, 20 MiB time x${ratio(t.ourTorViaWebTunnelBig20MiB, t.ourTorDirectBig20MiB)}\n` +
          `  vs stock tor through our PT (${t.clientBootstrap} ms, ${t.big20MiB} ms): bootstrap x${ratio(t.ourTorViaWebTunnelBootstrap, t.clientBootstrap)}, 20 MiB time x${ratio(t.ourTorViaWebTunnelBig20MiB, t.big20MiB)}`,
      )
    }
  }, 200_000)
})

// The proxy against real peers on 127.0.0.1: curl through HTTP CONNECT and SOCKS5 to openssl
// s_server and nginx, for each strategy, with the body checked; tcp-split proven on the wire with
// tcpdump; record-split proven by dissecting what reached the server.

import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { labTls } from '../../lab/fixtures/index.js'
import { liveWorld } from '../net/live/world.js'
import { readCapture } from '../wire/pcap/capture.js'
import { reassembleCapture } from '../wire/pcap/reassemble-capture.js'
import { dissectTlsConversation } from '../wire/tls/dissect.js'
import { ProxyFront } from './front.js'
import { DEFAULT_ORDER, Planner } from './planner.js'
import { policyResolver } from './resolver.js'
import { strategies } from './strategies/index.js'
import type { StrategyName } from './strategy.js'
import { curl, nginxServer, opensslServer, type Peer, tcpdump, tempDir } from './testkit/peers.js'
import type { StrategyChoice } from './tunnel.js'
import { VerdictStore } from './verdict-store.js'

const fx = labTls()
const dir = tempDir()
const body = `sultry live test ${Date.now()} ${'x'.repeat(5000)}\n`
let openssl: Peer
let nginx: Peer
const caFile = join(dir, 'ca.pem')

beforeAll(async () => {
  writeFileSync(caFile, fx.caCert)
  writeFileSync(join(dir, 'page.txt'), body)
  openssl = await opensslServer(dir, fx.serverCert, fx.serverKey)
  nginx = await nginxServer(tempDirWithPage(), fx.serverCert, fx.serverKey)
}, 30_000)
afterAll(async () => {
  await openssl?.kill()
  await nginx?.kill()
  rmSync(dir, { recursive: true, force: true })
})

function tempDirWithPage(): string {
  const d = tempDir('sultry-nginx-')
  writeFileSync(join(d, 'page.txt'), body)
  return d
}

async function startProxy(choice: StrategyChoice, nonTls: 'pass' | 'refuse' = 'pass') {
  const world = liveWorld()
  const all = strategies()
  const map = new Map([['server.lab.test', '127.0.0.1']])
  const planner = new Planner({ world, store: new VerdictStore(), strategies: all, available: DEFAULT_ORDER.filter((s) => !s.startsWith('oob')) })
  const logs: string[] = []
  const front = new ProxyFront({ world, strategyFor: () => choice, strategies: all, planner, resolver: policyResolver({ map }), oob: undefined, nonTls, statusEndpoint: true, log: (l) => logs.push(l) })
  const l = await front.listen(0)
  return { front, port: l.port, logs }
}

const fixed: StrategyName[] = ['direct', 'tcp-split', 'record-split']

describe('sultry proxy with real peers', () => {
  for (const s of fixed) {
    for (const server of ['openssl', 'nginx'] as const) {
      it(`${s}: curl via HTTP CONNECT and SOCKS5 to ${server} gets the page`, async () => {
        const { front, port, logs } = await startProxy(s)
        const peer = server === 'openssl' ? openssl : nginx
        const url = `https://server.lab.test:${peer.port}/page.txt`
        const viaHttp = await curl(['--cacert', caFile, '-x', `http://127.0.0.1:${port}`, url])
        expect(viaHttp.stderr).toBe('')
        expect(viaHttp.stdout.toString()).toBe(body)
        const viaSocks = await curl(['--cacert', caFile, '--socks5-hostname', `127.0.0.1:${port}`, url])
        expect(viaSocks.stderr).toBe('')
        expect(viaSocks.stdout.toString()).toBe(body)
        expect(front.stats.strategies[s]).toBe(2)
        expect(front.stats.failures).toBe(0)
        expect(logs.filter((l) => l.includes(`${s} sni=server.lab.test`))).toHaveLength(2)
        await front.close()
      }, 30_000)
    }
  }

  it('tcp-split: tcpdump on lo sees the ClientHello leave in several data segments, split inside the SNI', async () => {
    const { front, port } = await startProxy('tcp-split')
    const pcap = join(dir, 'split.pcap')
    const cap = await tcpdump(pcap, openssl.port)
    const r = await curl(['--cacert', caFile, '-x', `http://127.0.0.1:${port}`, `https://server.lab.test:${openssl.port}/page.txt`])
    await cap.stop()
    expect(r.stdout.toString()).toBe(body)
    const capd = readCapture(new Uint8Array(readFileSync(pcap)))
    const all = reassembleCapture(capd)
    const flows = all.flows.filter((f) => f.server.port === openssl.port)
    expect(flows).toHaveLength(1)
    const up = flows[0].toServer
    // The hello is the first record; count the data segments that carried its bytes.
    const helloLength = 5 + ((up.bytes[3] << 8) | up.bytes[4])
    const helloSegments = up.chunks.filter((c) => c.offset < helloLength)
    expect(helloSegments.length).toBeGreaterThanOrEqual(3)
    console.log(`tcp-split on the wire: ${helloLength}-byte ClientHello in ${helloSegments.length} data segments (${helloSegments.map((c) => c.length).join('+')})`)
    const sniAt = Buffer.from(up.bytes).indexOf('server.lab.test')
    expect(sniAt).toBeGreaterThan(0)
    // No single segment holds the whole name.
    for (const c of helloSegments) expect(c.offset <= sniAt && c.offset + c.length >= sniAt + 'server.lab.test'.length).toBe(false)
    await front.close()
  }, 30_000)

  it('record-split: the server receives several handshake records and completes the handshake', async () => {
    const pcap = join(dir, 'records.pcap')
    const cap = await tcpdump(pcap, nginx.port)
    const { front, port } = await startProxy('record-split')
    const r = await curl(['--cacert', caFile, '-x', `http://127.0.0.1:${port}`, `https://server.lab.test:${nginx.port}/page.txt`])
    await cap.stop()
    expect(r.stdout.toString()).toBe(body)
    const flow = reassembleCapture(readCapture(new Uint8Array(readFileSync(pcap)))).flows.find((f) => f.server.port === nginx.port)!
    const d = dissectTlsConversation(flow.toServer.bytes, flow.toClient.bytes)
    const up = d.client.records
    const leadingHandshake = up.slice(0, up.findIndex((x) => x.type !== 22))
    expect(leadingHandshake.length).toBeGreaterThanOrEqual(3)
    // One ClientHello reassembled from those records, with the SNI intact.
    const ch = d.client.handshakes[0]
    expect(ch.clientHello?.sni).toBe('server.lab.test')
    expect(ch.lastRecord - ch.firstRecord + 1).toBe(leadingHandshake.length)
    // The server answered with a ServerHello and application data flowed both ways.
    expect(d.server.handshakes[0].serverHello).toBeDefined()
    expect(d.server.records.some((x) => x.type === 23)).toBe(true)
    expect(up.some((x) => x.type === 23)).toBe(true)
    await front.close()
  }, 30_000)

  it('plain HTTP on the proxy port gets a 501 page; GET /status gives JSON', async () => {
    const { front, port } = await startProxy('direct')
    const page = await curl(['-i', `http://127.0.0.1:${port}/`])
    expect(page.stdout.toString()).toMatch(/^HTTP\/1.1 501 Not Implemented/)
    expect(page.stdout.toString()).toContain('HTTP CONNECT and SOCKS5 proxy')
    const proxied = await curl(['-i', '-x', `http://127.0.0.1:${port}`, 'http://example.invalid/'])
    expect(proxied.stdout.toString()).toContain('Plain-HTTP proxying')
    const status = await curl([`http://127.0.0.1:${port}/status`])
    const json = JSON.parse(status.stdout.toString())
    expect(json.connections).toBe(3)
    expect(json.strategies).toMatchObject({ direct: 0 })
    await front.close()
  }, 30_000)

  it('refuses a name it may not resolve (no --resolve-locally, no helper): 502 and SOCKS host unreachable', async () => {
    const { front, port } = await startProxy('direct')
    const r = await curl(['-x', `http://127.0.0.1:${port}`, 'https://unmapped.example/'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/502|CONNECT/)
    const s = await curl(['--socks5-hostname', `127.0.0.1:${port}`, 'https://unmapped.example/'])
    expect(s.code).not.toBe(0)
    expect(s.stderr).toMatch(/unreachable|SOCKS5|97/i)
    await front.close()
  }, 30_000)

  it('non-TLS tunnels: passed through untouched with --non-tls pass (even under tcp-split), cut with refuse', async () => {
    const world = liveWorld()
    const origin = await world.net.listen(0, (c) => {
      c.on('error', () => {})
      c.once('data', (d: Buffer) => c.end(`HTTP/1.1 200 OK\r\nContent-Length: ${d.length}\r\nConnection: close\r\n\r\n${d.toString('latin1')}`))
    })
    const pass = await startProxy('tcp-split')
    // curl -p: CONNECT, then plain HTTP inside the tunnel; the origin echoes the request head.
    const r = await curl(['-p', '-x', `http://127.0.0.1:${pass.port}`, `http://127.0.0.1:${origin.port}/plain`])
    expect(r.stdout.toString()).toMatch(/^GET \/plain HTTP\/1.1\r\nHost: 127.0.0.1:\d+\r\n/)
    expect(pass.front.stats.notTls).toBe(1)
    expect(pass.front.stats.strategies.direct).toBe(1)
    const refuse = await startProxy('direct', 'refuse')
    const x = await curl(['-p', '-x', `http://127.0.0.1:${refuse.port}`, `http://127.0.0.1:${origin.port}/plain`])
    expect(x.code).not.toBe(0)
    expect(x.stdout.length).toBe(0)
    expect(refuse.logs.join('\n')).toMatch(/not TLS .*refused/)
    await pass.front.close()
    await refuse.front.close()
    await origin.close()
  }, 30_000)
})

// The whole client against the lab's private network of real tor 0.4.9 processes, driven through
// its SOCKS/HTTP CONNECT front by curl: a local page, a 50 MB download with its sha256, 20
// concurrent streams, isolation by SOCKS credentials, RESOLVE, END reasons as SOCKS replies, a
// bridge as first hop, and a killed exit replaced by a new circuit.

import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as http from 'node:http'
import * as net from 'node:net'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveWorld } from '../net/live/world.js'
import type { Listener, World } from '../net/world.js'
import type { Consensus } from './dir/consensus.js'
import { parseDirAuthority } from './dir/dir-authority.js'
import { refreshWindow } from './dir/refresh-schedule.js'
import type { Testnet } from '../../lab/tor-testnet/testnet.js'
import { testServerPort } from '../../lab/tor-testnet/layout.js'
import { TorClient } from './client.js'
import { startSocksFront } from './socks-front.js'
import { startSharedTestnet } from './testnet-fixture.test-util.js'
import { stopChild } from '../../lab/peers/process.js'

let BASE = 0
let PAGE_PORT = 0
let FRONT_PORT = 0
let tn: Testnet
let cleanup: (() => Promise<void>) | undefined
let server: http.Server
let tor: TorClient
let bootstrapConsensus: Consensus
let front: Listener
const traces: string[] = []
const world = liveWorld({ trace: (e, d) => e.startsWith('tor-') && e !== 'tor-channel-tls' && traces.push(`${Date.now() % 100000} ${e} ${JSON.stringify(d)}`) })
// The main client's own World counts its connections to the authorities' DirPorts: after
// bootstrap, its directory refreshes must go to its guard instead (BEGIN_DIR).
let authorityDirPorts = new Set<number>()
let dirPortConnects = 0
const mainWorld: World = { ...world, net: { ...world.net, connect: (h, p) => (authorityDirPorts.has(p) && dirPortConnects++, world.net.connect(h, p)) } }
const notices: { at: number; line: string }[] = []
const BIG = Buffer.alloc(50 * 1000 * 1000)
for (let i = 0; i < BIG.length; i += 4) BIG.writeUInt32LE(Math.imul(i + 7, 2654435761) >>> 0, i)
const BIG_SHA = createHash('sha256').update(BIG).digest('hex')

function curl(args: string[]): Promise<{ code: number; out: Buffer; err: string }> {
  return new Promise((res) =>
    execFile('curl', ['-s', '--max-time', '120', ...args], { encoding: 'buffer', maxBuffer: 128 << 20 }, (e, out, err) =>
      res({ code: e ? ((e as { code?: number }).code ?? -1) : 0, out, err: err.toString() }),
    ),
  )
}

/** A raw SOCKS5 exchange (no auth) returning the reply's code byte and the whole reply. */
function socks5(command: number, host: string, port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(FRONT_PORT, '127.0.0.1')
    let got = Buffer.alloc(0)
    s.on('connect', () => {
      const h = Buffer.from(host)
      s.write(Buffer.concat([Buffer.from([5, 1, 0]), Buffer.from([5, command, 0, 3, h.length]), h, Buffer.from([port >> 8, port & 255])]))
    })
    s.on('data', (d) => {
      got = Buffer.concat([got, d])
      if (got.length >= 2 + 4) {
        resolve(got.subarray(2))
        s.destroy()
      }
    })
    s.on('error', reject)
  })
}

beforeAll(async () => {
  server = http.createServer((req, res) => (req.url === '/big' ? res.end(BIG) : res.end('hello from the lab through sultry tor\n')))
  ;({ net: tn, cleanup } = await startSharedTestnet())
  BASE = tn.basePort
  PAGE_PORT = testServerPort(BASE)
  FRONT_PORT = testServerPort(BASE, 10)
  await new Promise<void>((r) => server.listen(PAGE_PORT, '127.0.0.1', r))
  const t0 = Date.now()
  const phases: string[] = []
  authorityDirPorts = new Set(tn.authorities.map((a) => parseDirAuthority(a).dirPort))
  tor = await TorClient.create(mainWorld, {
    authorities: tn.authorities,
    testingNetwork: true,
    progress: (p, ph) => phases.push(`${p}% ${ph}`),
    notice: (line) => notices.push({ at: Date.now(), line }),
  })
  bootstrapConsensus = tor.netdir.consensus
  dirPortConnects = 0
  console.log(`sultry tor bootstrap: ${Date.now() - t0} ms (${phases.join(' | ')})`)
  front = await startSocksFront(mainWorld, tor, FRONT_PORT)
}, 170_000)
afterAll(async () => {
  await front?.close()
  await tor?.close()
  await cleanup?.()
  server?.close()
}, 30_000)

describe('TorClient + SOCKS front against tor 0.4.9', () => {
  it('curl --socks5-hostname, --socks4a and HTTP CONNECT all reach the local page', async () => {
    for (const via of [['--socks5-hostname', `127.0.0.1:${FRONT_PORT}`], ['--socks4a', `127.0.0.1:${FRONT_PORT}`], ['-p', '-x', `http://127.0.0.1:${FRONT_PORT}`]]) {
      const r = await curl([...via, `http://127.0.0.1:${PAGE_PORT}/`])
      expect(r.code, r.err).toBe(0)
      expect(r.out.toString()).toBe('hello from the lab through sultry tor\n')
    }
  })

  it('a 50 MB download arrives with the same sha256', async () => {
    const t = Date.now()
    const r = await curl(['--socks5-hostname', `127.0.0.1:${FRONT_PORT}`, `http://127.0.0.1:${PAGE_PORT}/big`])
    const ms = Date.now() - t
    expect(r.code, r.err).toBe(0)
    expect(r.out.length).toBe(BIG.length)
    expect(createHash('sha256').update(r.out).digest('hex')).toBe(BIG_SHA)
    // The same download through the network's reference C tor client, at the same moment, for the ratio.
    const tc = Date.now()
    const c = await curl(['--socks5-hostname', `127.0.0.1:${tn.socks.port}`, `http://127.0.0.1:${PAGE_PORT}/big`])
    const cms = Date.now() - tc
    expect(createHash('sha256').update(c.out).digest('hex')).toBe(BIG_SHA)
    console.log(`50 MB: sultry ${ms} ms (${(BIG.length / 1e6 / (ms / 1000)).toFixed(2)} MB/s), C tor ${cms} ms (${(BIG.length / 1e6 / (cms / 1000)).toFixed(2)} MB/s); sultry/C tor throughput ${(cms / ms).toFixed(2)}`)
  }, 150_000)

  it('20 concurrent streams complete', async () => {
    const rs = await Promise.all(Array.from({ length: 20 }, () => curl(['--socks5-hostname', `127.0.0.1:${FRONT_PORT}`, `http://127.0.0.1:${PAGE_PORT}/`])))
    for (const r of rs) expect(r.out.toString()).toBe('hello from the lab through sultry tor\n')
  })

  it('two different SOCKS credentials get two different circuits', async () => {
    for (const user of ['alice:one', 'bob:two']) {
      const r = await curl(['--socks5-hostname', `${user}@127.0.0.1:${FRONT_PORT}`, `http://127.0.0.1:${PAGE_PORT}/`])
      expect(r.out.toString()).toBe('hello from the lab through sultry tor\n')
    }
    const a = tor.openCircuits.filter((c) => c.isolation === 'u:alice\0one')
    const b = tor.openCircuits.filter((c) => c.isolation === 'u:bob\0two')
    expect(a).toHaveLength(1)
    expect(b).toHaveLength(1)
    expect(a[0].circuit).not.toBe(b[0].circuit)
    expect(a[0].circuit.circId === b[0].circuit.circId && a[0].circuit.channel === b[0].circuit.channel).toBe(false)
  })

  it('RESOLVE (F0) and a refused connection come back as SOCKS5 reply codes', async () => {
    // The lab exits have no DNS (resolver 127.0.0.1): the name fails -> host unreachable (4).
    expect((await socks5(0xf0, 'nosuch.invalid', 0))[1]).toBe(4)
    // Nothing listens on B+99; tor exits report MISC for a refused connect -> general failure (1).
    expect((await socks5(1, '127.0.0.1', testServerPort(BASE, 19)))[1]).toBe(1)
  })

  it('reaches the page through the network’s bridge given as a bridge line', async () => {
    const viaBridge = await TorClient.create(world, { authorities: tn.authorities, bridges: [tn.bridgeLine], testingNetwork: true })
    try {
      const s = await viaBridge.connect('127.0.0.1', PAGE_PORT)
      s.write('GET / HTTP/1.0\r\n\r\n')
      let out = ''
      for await (const c of s) out += c
      expect(out).toMatch(/hello from the lab through sultry tor\n$/)
      expect(viaBridge.openCircuits.every((c) => c.path[0] === 'br0')).toBe(true)
    } finally {
      await viaBridge.close()
    }
  })

  it('a warm bootstrap reuses the directory cache and the guards chosen before', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'sultry-torcache-'))
    try {
      const times: number[] = []
      const froms: string[] = []
      const guards: string[][] = []
      for (let i = 0; i < 2; i++) {
        const t = Date.now()
        const c = await TorClient.create(world, { authorities: tn.authorities, testingNetwork: true, cacheDir })
        times.push(Date.now() - t)
        froms.push(c.netdir.from)
        guards.push(c.primaryGuardNames)
        await c.close()
      }
      expect(froms).toEqual(['network', 'cache'])
      // guard-spec: the guards persist across runs (same ones, same order), in cacheDir/guards.json.
      expect(guards[0].length).toBe(3)
      expect(guards[1]).toEqual(guards[0])
      expect(JSON.parse(readFileSync(join(cacheDir, 'guards.json'), 'utf8')).guards).toHaveLength(3)
      console.log(`bootstrap cold ${times[0]} ms, warm (cached directory) ${times[1]} ms`)
    } finally {
      rmSync(cacheDir, { recursive: true, force: true })
    }
  })

  it('the sultry tor command bootstraps from --testnet, prints progress, and serves SOCKS', async () => {
    const port = testServerPort(BASE, 11)
    // The command module run the way src/cli/main.ts runs it (main.ts registration is the lead's).
    const script = `const m = await import(${JSON.stringify(new URL('../cli/tor.ts', import.meta.url).pathname)}); const a = await import(${JSON.stringify(new URL('../cli/args.ts', import.meta.url).pathname)}); process.exitCode = await m.default.run(a.parseArgs(m.default.spec, process.argv.slice(1)))`
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, '--', '--socks', `127.0.0.1:${port}`, '--testnet', tn.dir], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    try {
      const until = Date.now() + 30_000
      while (!stderr.includes('SOCKS5 / SOCKS4a / HTTP CONNECT on') && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 100))
      expect(stderr).toMatch(/Bootstrapped 0% \(starting\)/)
      expect(stderr).toMatch(/Bootstrapped 100% \(done/)
      const r = await curl(['--socks5-hostname', `127.0.0.1:${port}`, `http://127.0.0.1:${PAGE_PORT}/`])
      expect(r.out.toString(), stderr).toBe('hello from the lab through sultry tor\n')
      // With no --cache, a --testnet client keeps its state beside the network: directory and guards.
      const state = join(tn.dir, 'sultry-tor-cache')
      expect(stderr).toContain(`sultry tor: state in ${state}`)
      expect(JSON.parse(readFileSync(join(state, 'guards.json'), 'utf8')).guards.length).toBeGreaterThan(0)
      expect(readFileSync(join(state, 'consensus-microdesc'), 'latin1')).toMatch(/^network-status-version 3 microdesc/)
      // SIGUSR1: one status line.
      child.kill('SIGUSR1')
      const statusRe = /sultry tor: consensus valid-after [\d-]+ [\d:]+ \(fresh until .*next fetch .*\), 7 relays; guards \S+ \S+ \S+; [1-9]\d* circuits, \d+ streams\n/
      for (const until = Date.now() + 5000; !statusRe.test(stderr) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50))
      expect(stderr).toMatch(statusRe)
    } finally {
      await stopChild(child)
    }
    expect(child.exitCode).toBe(0)
  })

  it('keeps its directory current: each next consensus comes from its guard over BEGIN_DIR, on the schedule of dir-spec §5.1', async () => {
    // The lab votes every 20 s (a consensus is fresh 20 s, valid 40 s): the first refresh falls
    // 35–39.4 s after the bootstrap consensus's valid-after, so it may not have happened yet.
    const deadline = Date.now() + 90_000
    while (tor.netdir.consensus.validAfter <= bootstrapConsensus.validAfter && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250))
    const first = notices.find((n) => n.line.startsWith('directory: consensus valid-after'))
    expect(first, notices.map((n) => n.line).join('\n')).toBeDefined()
    expect(tor.netdir.consensus.validAfter).toBeGreaterThan(bootstrapConsensus.validAfter)
    // Not before the window the spec draws from (the consensus's times have whole seconds).
    expect(first!.at).toBeGreaterThanOrEqual(refreshWindow(bootstrapConsensus).from - 1000)
    expect(first!.line).toMatch(/\d+ relays \(\d+ joined, \d+ left; \d+ microdescriptors fetched\)/)
    expect(dirPortConnects).toBe(0)
    expect(tor.netdir.relays.length).toBe(bootstrapConsensus.relays.length)
    const r = await curl(['--socks5-hostname', `127.0.0.1:${FRONT_PORT}`, `http://127.0.0.1:${PAGE_PORT}/`])
    expect(r.out.toString()).toBe('hello from the lab through sultry tor\n')
    console.log(`directory refreshes: ${notices.map((n) => n.line).join(' | ')}`)
  }, 120_000)

  it('killing the exit mid-run: the next request succeeds on a new circuit', async () => {
    const before = tor.openCircuits.find((c) => c.isolation === '')!
    const exitNick = before.path[2]
    const openBefore = new Set(tor.openCircuits.map((c) => c.circuit))
    expect(['e0', 'e1']).toContain(exitNick)
    traces.length = 0
    await tn.killNode(exitNick)
    traces.push(`${Date.now() % 100000} killed ${exitNick}`)
    const r = await curl(['--socks5-hostname', `127.0.0.1:${FRONT_PORT}`, `http://127.0.0.1:${PAGE_PORT}/`])
    expect(r.code, traces.join('\n')).toBe(0)
    expect(r.out.toString()).toBe('hello from the lab through sultry tor\n')
    console.log(`exit kill (${exitNick}) -> next request: ${traces.join('\n')}`)
    // Circuits through the dead exit may still be listed until their DESTROY arrives; the request
    // went over a circuit through another exit that did not exist before the kill.
    const usable = tor.openCircuits.filter((c) => c.isolation === '' && !c.circuit.closed && c.path[2] !== exitNick)
    expect(usable.some((c) => !openBefore.has(c.circuit)), traces.join('\n')).toBe(true)
  }, 90_000)
})

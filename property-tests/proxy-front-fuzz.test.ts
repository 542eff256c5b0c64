// The proxy front under fire: fast-check-generated and mutated SOCKS5/4a and HTTP CONNECT requests,
// followed by generated, mutated or random ClientHellos, sent over real loopback connections in
// random chunks. Nothing may crash, reject unhandled, leak a connection, or grow memory unboundedly.
// Every tunnel's upstream is a local sink (the test's "direct" dials it whatever the target), so no
// fuzzed address is ever contacted.

import * as net from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveWorld } from '../src/net/live/world.js'
import type { Conn, Listener } from '../src/net/world.js'
import { ProxyFront } from '../src/proxy/front.js'
import { writeAll } from '../src/proxy/pipe.js'
import { Planner } from '../src/proxy/planner.js'
import { strategies } from '../src/proxy/strategies/index.js'
import type { Strategy } from '../src/proxy/strategy.js'
import { framed, helloMessage } from '../src/proxy/testkit/hellos.js'
import { VerdictStore } from '../src/proxy/verdict-store.js'
import { concatBytes } from '../src/wire/bytes.js'

const numRuns = process.env.SULTRY_QUICK ? 60 : 10_000
const unhandled: unknown[] = []
const onUnhandled = (e: unknown) => unhandled.push(e)
let sink: Listener
let front: ProxyFront
let port = 0
let sinkConnections = 0

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled)
  process.on('uncaughtException', onUnhandled)
  const world = liveWorld()
  sink = await world.net.listen(0, (c: Conn) => {
    sinkConnections++
    c.on('error', () => {})
    c.on('data', () => {})
    c.on('end', () => c.end())
  })
  const toSink: Strategy = {
    name: 'direct',
    async connect(ctx) {
      const c = await world.net.connect('127.0.0.1', sink.port)
      c.pause()
      await writeAll(c, ctx.firstFlight)
      return c
    },
  }
  const all = { ...strategies(), direct: toSink, 'tcp-split': { ...toSink, name: 'tcp-split' as const } }
  const planner = new Planner({ world, store: new VerdictStore(), strategies: all, available: ['direct'], attemptTimeoutMs: 200 })
  front = new ProxyFront({
    world,
    strategyFor: (h) => (h.length % 3 === 0 ? 'auto' : h.length % 3 === 1 ? 'direct' : 'record-split'),
    strategies: { ...all, 'record-split': { ...toSink, name: 'record-split' } },
    planner,
    resolver: async () => '127.0.0.1',
    oob: undefined,
    nonTls: 'pass',
    statusEndpoint: true,
    firstFlightTimeoutMs: 150,
    introTimeoutMs: 300,
  })
  port = (await front.listen(0)).port
})

afterAll(async () => {
  await front?.close()
  await sink?.close()
  process.off('unhandledRejection', onUnhandled)
  process.off('uncaughtException', onUnhandled)
})

const host = fc.oneof(fc.domain(), fc.constant('server.lab.test'), fc.ipV4())
const port16 = fc.integer({ min: 1, max: 65535 })
const socksRequest = fc.tuple(host, port16).map(([h, p]) => {
  const name = Buffer.from(h)
  return concatBytes(new Uint8Array([5, 1, 0]), new Uint8Array([5, 1, 0, 3, name.length]), name, new Uint8Array([p >> 8, p & 255]))
})
const socks4a = fc.tuple(host, port16).map(([h, p]) => concatBytes(new Uint8Array([4, 1, p >> 8, p & 255, 0, 0, 0, 1, 0]), Buffer.from(h), new Uint8Array([0])))
const httpConnect = fc.tuple(host, port16, fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,12}$/), fc.string({ maxLength: 30 })), { maxLength: 4 })).map(([h, p, hs]) =>
  Buffer.from(`CONNECT ${h}:${p} HTTP/1.1\r\nHost: ${h}:${p}\r\n${hs.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1'),
)
const httpOther = fc.tuple(fc.constantFrom('GET', 'POST', 'HEAD', 'BREW'), fc.constantFrom('/', '/status', 'http://x.example/', '*')).map(([m, t]) => Buffer.from(`${m} ${t} HTTP/1.1\r\nHost: x\r\n\r\n`))
const intro = fc.oneof(socksRequest, socks4a, httpConnect, httpOther)
const hello = fc.record({ sni: fc.option(fc.domain(), { nil: undefined }), keyShareBytes: fc.integer({ min: 1, max: 1400 }), psk: fc.boolean() }).chain((shape) => {
  const msg = helloMessage(shape)
  return fc.array(fc.integer({ min: 1, max: msg.length - 1 }), { maxLength: 4 }).map((cuts) => framed(msg, [...new Set(cuts)].sort((a, b) => a - b)))
})
function mutate(a: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(a, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat()).map(([b, muts, cut]) => {
    const out = Uint8Array.from(b)
    for (const [at, v] of muts) if (out.length) out[at % out.length] = v
    return muts.length > 0 && cut % 4 === 0 ? out.subarray(0, cut % (out.length + 1)) : out
  })
}
const session = fc.tuple(fc.oneof(intro, mutate(intro), fc.uint8Array({ maxLength: 600 })), fc.oneof(hello, mutate(hello), fc.uint8Array({ maxLength: 2000 }), fc.constant(new Uint8Array(0))), fc.array(fc.nat(), { maxLength: 5 }))

function exchange(bytes: Uint8Array, cuts: number[]): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.setNoDelay(true)
    const done = () => (clearTimeout(t), s.destroy(), resolve())
    const t = setTimeout(done, 1500)
    s.on('error', done)
    s.on('close', done)
    s.on('data', () => {})
    s.on('connect', async () => {
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
      let prev = 0
      for (const p of [...points, bytes.length]) {
        if (s.destroyed) return
        s.write(bytes.subarray(prev, p))
        prev = p
        await new Promise((r) => setImmediate(r))
      }
      s.end()
    })
  })
}

describe('proxy front fuzzing over real loopback connections', () => {
  it(`${numRuns} generated/mutated sessions: no crash, no unhandled rejection, no leaked connection, bounded memory`, async () => {
    const before = process.memoryUsage().heapUsed
    await fc.assert(
      fc.asyncProperty(session, async ([i, h, cuts]) => {
        await exchange(concatBytes(i, h), cuts)
      }),
      { numRuns },
    )
    for (let i = 0; i < 100 && front.stats.active > 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(unhandled).toEqual([])
    expect(front.stats.connections).toBe(numRuns)
    expect(front.stats.active).toBe(0)
    expect(sinkConnections).toBeGreaterThan(0) // some tunnels did reach a strategy
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024)
    console.log(`front fuzz: ${numRuns} connections, ${sinkConnections} tunnels reached upstream, failures=${front.stats.failures}, not-tls=${front.stats.notTls}`)
  }, 600_000) // 10,000 real loopback sessions take about 3-4 minutes on two busy cores
})

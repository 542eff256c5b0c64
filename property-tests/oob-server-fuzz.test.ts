// The OOB helper under fire over real TLS connections on loopback: random bytes, mutated
// handshakes, and (after a correct AUTH) generated and mutated frame sequences — OPENs (every
// name resolves to 127.0.0.1, which a helper without --allow-private refuses, so nothing is ever
// contacted), DATA/WINDOW/CLOSE for unknown streams, RESOLVE, PING, oversized headers. The helper
// must not crash or reject unhandled, must close every session, and must hold bounded memory.

import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { labTls } from '../lab/fixtures/index.js'
import { liveWorld } from '../src/net/live/world.js'
import { connectTls } from '../src/tls/connect.js'
import { concatBytes } from '../src/wire/bytes.js'
import { authMac, CLIENT_LABEL } from '../src/proxy/oob/auth.js'
import { CloseReason, type CloseReasonName, encodeFrame, OOB_VERSION, type OobFrame } from '../src/proxy/oob/frame.js'
import { FrameReader } from '../src/proxy/oob/frame-reader.js'
import { OobServer } from '../src/proxy/oob/server.js'

const numRuns = process.env.SULTRY_QUICK ? 60 : 10_000
const fx = labTls()
const key = new Uint8Array(32).fill(0x33)
const unhandled: unknown[] = []
const onUnhandled = (e: unknown) => unhandled.push(e)
let server: OobServer
let port = 0

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled)
  process.on('uncaughtException', onUnhandled)
  server = new OobServer(liveWorld(), { key, tlsKey: fx.serverKey, tlsCert: fx.serverCert, lookup: async () => ['127.0.0.1'], maxStreams: 8, authTimeoutMs: 1000 })
  port = (await server.listen(0)).port
})
afterAll(async () => {
  await server?.close()
  process.off('unhandledRejection', onUnhandled)
  process.off('uncaughtException', onUnhandled)
})

const stream = fc.integer({ min: 1, max: 40 })
const reason = fc.constantFrom(...(Object.keys(CloseReason) as CloseReasonName[]))
const frame: fc.Arbitrary<OobFrame> = fc.oneof(
  fc.record({ type: fc.constant('open' as const), stream, port: fc.integer({ min: 1, max: 65535 }), window: fc.nat(), host: fc.oneof(fc.domain(), fc.ipV4()) }),
  fc.record({ type: fc.constant('data' as const), stream, data: fc.uint8Array({ minLength: 1, maxLength: 3000 }) }),
  fc.record({ type: fc.constant('window' as const), stream, increment: fc.integer({ min: 1, max: 0xffffffff }) }),
  fc.record({ type: fc.constant('close' as const), stream, reason, message: fc.string({ maxLength: 20 }) }),
  fc.record({ type: fc.constant('resolve' as const), stream, host: fc.domain() }),
  fc.record({ type: fc.constant('resolved' as const), stream, reason, addresses: fc.array(fc.ipV4(), { maxLength: 3 }) }),
  fc.record({ type: fc.constant('opened' as const), stream, window: fc.nat(), address: fc.ipV4() }),
  fc.record({ type: fc.constant('ping' as const), ack: fc.boolean(), opaque: fc.uint8Array({ minLength: 8, maxLength: 8 }) }),
  fc.record({ type: fc.constant('hello' as const), version: fc.constant(1), serverNonce: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
)
const frames = fc.array(frame, { maxLength: 12 }).map((fs) => concatBytes(...fs.map((f) => encodeFrame(f))))
const mutated = fc.tuple(frames, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([b, muts]) => {
  const out = Uint8Array.from(b)
  for (const [at, v] of muts) if (out.length) out[at % out.length] = v
  return out
})
const opens = fc
  .array(fc.record({ port: fc.integer({ min: 1, max: 65535 }), host: fc.oneof(fc.domain(), fc.ipV4()) }), { minLength: 1, maxLength: 12 })
  .map((os) => concatBytes(...os.map((o, i) => encodeFrame({ type: 'open', stream: 2 * i + 1, window: 65536, ...o }))))
const afterAuth = fc.oneof(frames, opens, mutated, fc.uint8Array({ maxLength: 500 }), fc.constant(new Uint8Array([0x12, 0, 0, 0, 1, 0xff, 0xff])))
const scenario = fc.record({ authenticate: fc.oneof(fc.constant('yes' as const), fc.constant('bad-mac' as const), fc.constant('none' as const)), payload: afterAuth })

async function run(s: { authenticate: 'yes' | 'bad-mac' | 'none'; payload: Uint8Array }): Promise<void> {
  const world = liveWorld()
  const tls = await connectTls(world, await world.net.connect('127.0.0.1', port), { servername: 'cover.example', rejectUnauthorized: false })
  tls.on('error', () => {})
  const reader = new FrameReader()
  const got: OobFrame[] = []
  tls.on('data', (d: Buffer) => reader.push(d).forEach((e) => e.kind === 'frame' && got.push(e.frame)))
  const closed = new Promise<void>((r) => (tls.once('close', () => r()), tls.once('end', () => r())))
  const wait = async (n: number) => {
    for (let i = 0; i < 100 && got.length < n; i++) await new Promise((r) => setTimeout(r, 5))
  }
  if (s.authenticate !== 'none') {
    await wait(1)
    const hello = got[0]
    if (hello?.type === 'hello') {
      const nonce = world.random(32)
      const mac = authMac(s.authenticate === 'yes' ? key : new Uint8Array(32), CLIENT_LABEL, hello.serverNonce, nonce)
      tls.write(encodeFrame({ type: 'auth', version: OOB_VERSION, clientNonce: nonce, mac }))
      if (s.authenticate === 'yes') await wait(2)
    }
  }
  tls.write(s.payload)
  tls.end()
  await Promise.race([closed, new Promise((r) => setTimeout(r, 1500))])
  tls.destroy()
}

describe('OOB helper fuzzing over real TLS connections', () => {
  it(`${numRuns} sessions of generated/mutated input: no crash, no unhandled rejection, every session closed`, async () => {
    const before = process.memoryUsage().heapUsed
    await fc.assert(fc.asyncProperty(scenario, run), { numRuns })
    for (let i = 0; i < 200 && server.activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(unhandled).toEqual([])
    expect(server.activeSessions).toBe(0)
    expect(server.stats.streamsOpened).toBe(0) // every target was private: nothing contacted
    expect(server.stats.sessions).toBeGreaterThan(0)
    expect(server.stats.authFailures).toBeGreaterThan(0)
    expect(server.stats.streamsRefused).toBeGreaterThan(0)
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024)
    console.log(`oob fuzz: ${numRuns} connections, ${server.stats.sessions} authenticated, ${server.stats.authFailures} refused, ${server.stats.streamsRefused} OPENs refused`)
  }, 600_000) // 10,000 real TLS sessions take 1-2 minutes on two busy cores
})

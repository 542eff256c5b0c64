// Circuits and streams against real tor 0.4.9 relays: a 3-hop circuit built by hand from the
// lab network's relay facts reaches a local HTTP server through an exit; multi-MB transfers both
// ways arrive intact (the exit stops after 500 stream / 1000 circuit cells unless our SENDMEs
// come, and we stop unless its SENDME v1 digests match ours); END reasons, RESOLVE, BEGIN_DIR,
// many streams at once, and a build timeout from the World clock.

import { createHash } from 'node:crypto'
import * as http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveWorld } from '../../net/live/world.js'
import { EndReason, ResolvedType } from '../../wire/tor/relay-msg.js'
import type { Testnet } from '../../../lab/tor-testnet/testnet.js'
import { testServerPort } from '../../../lab/tor-testnet/layout.js'
import { Channel } from '../channel/channel.js'
import { CircuitError, StreamError } from '../errors.js'
import { TorStream, resolveOnCircuit } from '../stream/stream.js'
import { relayByNick, relayTarget, startSharedTestnet } from '../testnet-fixture.test-util.js'
import { Circuit } from './circuit.js'

let BASE = 0
let net: Testnet
let cleanup: (() => Promise<void>) | undefined
let server: http.Server
const world = liveWorld()
const BIG = Buffer.alloc(8 << 20)
for (let i = 0; i < BIG.length; i += 4) BIG.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i)
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/big') return res.end(BIG)
    if (req.url === '/mid') return res.end(BIG.subarray(0, 512 << 10))
    if (req.url === '/upload') {
      const h = createHash('sha256')
      let n = 0
      req.on('data', (d: Buffer) => {
        h.update(d)
        n += d.length
      })
      req.on('end', () => res.end(`${n} ${h.digest('hex')}`))
      return
    }
    res.end('hello through tor\n')
  })
  ;({ net, cleanup } = await startSharedTestnet())
  BASE = net.basePort
  await new Promise<void>((r) => server.listen(testServerPort(BASE), '127.0.0.1', r))
}, 150_000)
afterAll(async () => {
  await cleanup?.()
  server?.close()
}, 30_000)

async function collect(s: TorStream): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of s) parts.push(c as Buffer)
  return Buffer.concat(parts)
}
const bodyOf = (resp: Buffer) => resp.subarray(resp.indexOf('\r\n\r\n') + 4)

async function threeHop(exit = 'e1') {
  const path = ['r0', 'r1', exit].map((n) => relayTarget(relayByNick(net, n)))
  const ch = await Channel.open(world, path[0])
  const t = Date.now()
  const circ = await Circuit.build(world, ch, path)
  return { ch, circ, buildMs: Date.now() - t }
}

describe('Circuit + streams against tor 0.4.9', () => {
  it('builds r0 -> r1 -> e1 and fetches a local page through the exit', async () => {
    const { ch, circ, buildMs } = await threeHop()
    console.log(`3-hop circuit build: ${buildMs} ms`)
    expect(circ.length).toBe(3)
    const s = await TorStream.open(world, circ, { host: '127.0.0.1', port: testServerPort(BASE) })
    s.write('GET / HTTP/1.0\r\nHost: lab\r\n\r\n')
    const resp = await collect(s)
    expect(resp.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(bodyOf(resp).toString()).toBe('hello through tor\n')
    expect(s.endReason).toBe(EndReason.DONE)
    circ.destroy()
    ch.close()
  })

  it('downloads 8 MB and uploads 4 MB intact (SENDMEs on both levels, both directions)', async () => {
    const { ch, circ } = await threeHop()
    let t = Date.now()
    const s = await TorStream.open(world, circ, { host: '127.0.0.1', port: testServerPort(BASE) })
    s.write('GET /big HTTP/1.0\r\n\r\n')
    const got = bodyOf(await collect(s))
    const downMs = Date.now() - t
    expect(got.length).toBe(BIG.length)
    expect(sha(got)).toBe(sha(BIG))
    // 8 MiB / 498 B = 16 845 DATA cells: far past both windows, so our SENDMEs kept it flowing.
    expect(circ.sendmesSent).toBeGreaterThanOrEqual(160)

    const up = BIG.subarray(0, 4 << 20)
    t = Date.now()
    const u = await TorStream.open(world, circ, { host: '127.0.0.1', port: testServerPort(BASE) })
    u.write(`POST /upload HTTP/1.0\r\nContent-Length: ${up.length}\r\n\r\n`)
    u.write(up)
    const answer = bodyOf(await collect(u)).toString()
    const upMs = Date.now() - t
    expect(answer).toBe(`${up.length} ${sha(up)}`)
    // Every authenticated SENDME from the exit matched a digest we recorded, or the circuit would be gone.
    expect(circ.sendmesReceived).toBeGreaterThanOrEqual(80)
    expect(circ.closed).toBe(false)
    console.log(`download 8 MiB: ${downMs} ms (${(BIG.length / 1e6 / (downMs / 1000)).toFixed(2)} MB/s); upload 4 MiB: ${upMs} ms (${(up.length / 1e6 / (upMs / 1000)).toFixed(2)} MB/s)`)
    circ.destroy()
    ch.close()
  })

  it('runs 20 streams at once on one circuit, each routed by its id', async () => {
    const { ch, circ } = await threeHop('e0')
    const results = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const s = await TorStream.open(world, circ, { host: '127.0.0.1', port: testServerPort(BASE) })
        s.write('GET /mid HTTP/1.0\r\n\r\n')
        return sha(bodyOf(await collect(s)))
      }),
    )
    // 20 x 512 KiB = 20 000 cells: streams interleave on one circuit and each still gets its own bytes.
    expect(new Set(results)).toEqual(new Set([sha(BIG.subarray(0, 512 << 10))]))
    expect(circ.streamCount).toBe(0)
    circ.destroy()
    ch.close()
  }, 180_000)

  it('reports the exit’s END reason for a refused connection, and RESOLVE answers', async () => {
    const { ch, circ } = await threeHop()
    // Nothing listens on B+99.
    const refused = await TorStream.open(world, circ, { host: '127.0.0.1', port: testServerPort(BASE, 19) }).catch((e) => e)
    expect(refused).toBeInstanceOf(StreamError)
    expect((refused as StreamError).code).toBe('end')
    // Observed: tor 0.4.9 exits answer a refused TCP connect with END reason MISC, not CONNECTREFUSED.
    expect((refused as StreamError).reason).toBe(EndReason.MISC)
    // The circuit survives a refused stream.
    const answers = await resolveOnCircuit(world, circ, 'nosuch.invalid')
    expect(answers.length).toBeGreaterThan(0)
    expect([ResolvedType.ERROR_TRANSIENT, ResolvedType.ERROR_NONTRANSIENT]).toContain(answers[0].type)
    circ.destroy()
    ch.close()
  })

  it('BEGIN_DIR on a one-hop circuit fetches the consensus from a relay’s directory cache', async () => {
    const r0 = relayTarget(relayByNick(net, 'r0'))
    const ch = await Channel.open(world, r0)
    const circ = await Circuit.build(world, ch, [r0])
    const s = await TorStream.open(world, circ, 'dir')
    s.write('GET /tor/status-vote/current/consensus-microdesc HTTP/1.0\r\n\r\n')
    const resp = (await collect(s)).toString('latin1')
    expect(resp).toMatch(/^HTTP\/1\.0 200 OK/)
    expect(resp).toContain('network-status-version 3 microdesc')
    circ.destroy()
    ch.close()
  })

  it('gives up on a build that does not finish before the World timer', async () => {
    const path = ['r0', 'r1', 'e1'].map((n) => relayTarget(relayByNick(net, n)))
    const ch = await Channel.open(world, path[0])
    await expect(Circuit.build(world, ch, path, { timeoutMs: 1 })).rejects.toMatchObject({ name: 'CircuitError', code: 'timeout' })
    // A wrong onion key: the relay cannot answer the handshake and destroys the circuit.
    const bad = { ...path[1], ntorOnionKey: path[2].ntorOnionKey }
    const err = await Circuit.build(world, ch, [path[0], bad], { timeoutMs: 20_000 }).catch((e) => e)
    expect(err).toBeInstanceOf(CircuitError)
    expect(['destroyed', 'truncated', 'handshake']).toContain((err as CircuitError).code)
    expect(ch.closed).toBe(false)
    ch.close()
  })
})

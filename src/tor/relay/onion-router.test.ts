// Our client against our relays, all inside the simulated network: the link handshake (the
// client's own CERTS checklist proves the identity), a 3-hop circuit (guard → middle → exit)
// built with CREATE2/ntor and EXTEND2, exit streams to a simulated web server, 2 MB each way
// (every SENDME on both levels, each v1 digest checked by the side that receives it), END
// reasons, a stream overrunning its window, garbage on one circuit, CREATE_FAST + BEGIN_DIR, and
// a middle relay crashing under a live circuit.

import { createHash } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Conn, World } from '../../net/world.js'
import { RngStream } from '../../net/sim/rng.js'
import { SimNetwork } from '../../net/sim/network.js'
import { quietLink } from '../../net/sim/test-helpers.js'
import { CELL_BODY_LEN, ChanCmd } from '../../wire/tor/cell.js'
import { DestroyReason } from '../../wire/tor/chan-msg.js'
import { EndReason, ResolvedType } from '../../wire/tor/relay-msg.js'
import { Channel } from '../channel/channel.js'
import { Circuit } from '../circuit/circuit.js'
import type { RelayTarget } from '../circuit/hop.js'
import { httpGet } from '../dir/http-get.js'
import { ChannelError, CircuitError, StreamError } from '../errors.js'
import { TorStream, resolveOnCircuit } from '../stream/stream.js'
import { generateRelayKeys, type RelayKeys } from './keys.js'
import { OnionRouter } from './onion-router.js'

const OR_PORT = 9001
const RELAYS = [
  { nick: 'guard', address: '10.0.1.1' },
  { nick: 'middle', address: '10.0.1.2' },
  { nick: 'exit', address: '10.0.1.3' },
] as const
const WEB = { name: 'web', address: '10.0.2.1' }
const SINK = { name: 'sink', address: '10.0.2.2' }

const BIG = Buffer.alloc(2 << 20)
for (let i = 0; i < BIG.length; i += 4) BIG.writeUInt32LE(Math.imul(i + 1, 2654435761) >>> 0, i)
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

let keys: RelayKeys[] = []
beforeAll(() => {
  const rng = new RngStream(7, 'relay-test/keys')
  keys = RELAYS.map((r) => generateRelayKeys((n) => rng.bytes(n), r.nick, 0))
}, 60_000)

/** A tiny HTTP/1.0 server on a sim host: GET /hello, GET /big (2 MB), POST /upload (answers size + sha256). */
function serveWeb(conn: Conn): void {
  conn.on('error', () => {})
  let buf = Buffer.alloc(0)
  let want = -1
  let head = ''
  const upload = createHash('sha256')
  let got = 0
  conn.on('data', (d: Buffer) => {
    if (want < 0) {
      buf = Buffer.concat([buf, d])
      const i = buf.indexOf('\r\n\r\n')
      if (i < 0) return
      head = buf.subarray(0, i).toString('latin1')
      const m = /content-length: (\d+)/i.exec(head)
      want = m ? Number(m[1]) : 0
      d = buf.subarray(i + 4)
    }
    upload.update(d)
    got += d.length
    if (got < want) return
    const path = head.split(' ')[1]
    const body = path === '/big' ? BIG : path === '/upload' ? Buffer.from(`${got} ${upload.digest('hex')}`) : Buffer.from('hello through the sim\n')
    conn.write(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`)
    conn.end(body)
  })
}

interface SimTor {
  net: SimNetwork
  client: World
  routers: OnionRouter[]
  path: RelayTarget[]
}

async function simTor(seed = 1, opts: { quiet?: boolean } = {}): Promise<SimTor> {
  const net = new SimNetwork({ seed, policy: 'queue', keepTrace: true })
  const names = ['client', ...RELAYS.map((r) => r.nick), WEB.name, SINK.name]
  const client = net.addHost('client', '10.0.0.1')
  const hosts = RELAYS.map((r) => net.addHost(r.nick, r.address))
  const web = net.addHost(WEB.name, WEB.address)
  const sink = net.addHost(SINK.name, SINK.address)
  for (const a of names) for (const b of names) if (a < b && opts.quiet !== false) net.link(a, b, { ab: { ...quietLink, latencyMs: 5 }, ba: { ...quietLink, latencyMs: 5 } })
  // The sink never reads, and its receive window is small: writes to it back up at the exit.
  net.link('exit', SINK.name, { ab: { ...quietLink, windowBytes: 4096 }, ba: quietLink })
  await web.world.net.listen(80, serveWeb)
  await sink.world.net.listen(80, (c) => {
    c.on('error', () => {})
    c.pause()
  })
  const routers: OnionRouter[] = []
  for (let i = 0; i < RELAYS.length; i++) {
    const isExit = RELAYS[i].nick === 'exit'
    routers.push(
      await OnionRouter.start(hosts[i].world, {
        keys: keys[i],
        orPort: OR_PORT,
        address: RELAYS[i].address,
        ...(isExit ? { exit: { policy: (_h: string, port: number) => port !== 25, resolve: (h: string) => ({ web: WEB.address, sink: SINK.address })[h] } } : {}),
        ...(i === 0 ? { dirRequest: (p: string) => (p === '/tor/server/authority' ? { status: 200, body: `router ${RELAYS[0].nick}\n` + 'x'.repeat(300_000) } : { status: 404, body: '' }) } : {}),
      }),
    )
  }
  const path = RELAYS.map((r, i) => ({
    host: r.address,
    port: OR_PORT,
    rsaId: keys[i].rsaId,
    ed25519Id: keys[i].ed25519Identity.public,
    ntorOnionKey: keys[i].ntor.public,
    nickname: r.nick,
  }))
  return { net, client: client.world, routers, path }
}

/** Runs the sim until `fn` (run on the client's World) settles; returns its result. */
async function inSim<T>(t: SimTor, fn: () => Promise<T>, maxVirtualMs = 600_000): Promise<T> {
  const p = fn()
  p.catch(() => {})
  try {
    await t.net.run({ until: p, maxVirtualMs })
  } catch (e) {
    // A stall or timeout is easier to read with the relays' last trace lines.
    console.log((t.net.trace.lines() ?? []).filter((l) => l.includes('tor-')).slice(-40).join('\n'))
    throw e
  }
  return await p
}

async function collect(s: TorStream): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of s) parts.push(c as Buffer)
  return Buffer.concat(parts)
}
const bodyOf = (resp: Buffer) => resp.subarray(resp.indexOf('\r\n\r\n') + 4)

async function threeHop(t: SimTor): Promise<{ ch: Channel; circ: Circuit }> {
  const ch = await Channel.open(t.client, t.path[0])
  const circ = await Circuit.build(t.client, ch, t.path)
  return { ch, circ }
}

describe('OnionRouter in the sim, driven by our client', () => {
  it('answers the link handshake: the client proves the identities our keys hold', async () => {
    const t = await simTor()
    const ch = await inSim(t, () => Channel.open(t.client, t.path[1]))
    expect(ch.linkVersion).toBe(5)
    expect(Buffer.from(ch.peer.rsaId).equals(Buffer.from(keys[1].rsaId))).toBe(true)
    expect(Buffer.from(ch.peer.ed25519Id).equals(Buffer.from(keys[1].ed25519Identity.public))).toBe(true)
    // Expecting another relay's identity at this address fails the checklist.
    const wrong = inSim(t, () => Channel.open(t.client, { ...t.path[1], rsaId: keys[0].rsaId }))
    await expect(wrong).rejects.toBeInstanceOf(ChannelError)
    await expect(wrong).rejects.toMatchObject({ code: 'identity' })
    ch.close()
  }, 30_000)

  it('carries a 3-hop circuit to an exit stream that fetches from a sim host', async () => {
    const t = await simTor()
    const got = await inSim(t, async () => {
      const { circ } = await threeHop(t)
      const s = await TorStream.open(t.client, circ, { host: 'web', port: 80 })
      s.write('GET /hello HTTP/1.0\r\n\r\n')
      const resp = await collect(s)
      return { resp, end: s.endReason, addr: s.connectedAddress, len: circ.length }
    })
    expect(got.len).toBe(3)
    expect(got.resp.toString('latin1')).toMatch(/^HTTP\/1\.0 200 OK\r\n/)
    expect(bodyOf(got.resp).toString()).toBe('hello through the sim\n')
    expect(got.end).toBe(EndReason.DONE)
    expect([...(got.addr ?? [])].join('.')).toBe(WEB.address)
    const [guard, middle, exit] = t.routers.map((r) => r.stats)
    expect(guard.cellsForwarded).toBeGreaterThan(0)
    expect(middle.extends).toBe(1)
    expect(exit.streamsOpened).toBe(1)
    expect(exit.streamsOpen).toBe(0)
  }, 30_000)

  it('downloads 2 MB intact (circuit SENDME v1 digests checked by the exit, stream SENDMEs)', async () => {
    const t = await simTor()
    const got = await inSim(t, async () => {
      const { circ } = await threeHop(t)
      const s = await TorStream.open(t.client, circ, { host: 'web', port: 80 })
      s.write('GET /big HTTP/1.0\r\n\r\n')
      const body = bodyOf(await collect(s))
      return { body, sendmesSent: circ.sendmesSent, closed: circ.closed }
    })
    expect(got.body.length).toBe(BIG.length)
    expect(sha(got.body)).toBe(sha(BIG))
    // 2 MB is ~4200 DATA cells: without our SENDMEs being accepted the exit would stop at 1000.
    expect(got.sendmesSent).toBeGreaterThanOrEqual(40)
    expect(got.closed).toBe(false)
  }, 60_000)

  it('uploads 2 MB intact: the exit sends authenticated circuit SENDMEs the client verifies', async () => {
    const t = await simTor()
    const got = await inSim(t, async () => {
      const { circ } = await threeHop(t)
      const s = await TorStream.open(t.client, circ, { host: 'web', port: 80 })
      s.write(`POST /upload HTTP/1.0\r\nContent-Length: ${BIG.length}\r\n\r\n`)
      s.write(BIG)
      const resp = bodyOf(await collect(s)).toString()
      return { resp, sendmesReceived: circ.sendmesReceived, closed: circ.closed }
    })
    expect(got.resp).toBe(`${BIG.length} ${sha(BIG)}`)
    expect(got.sendmesReceived).toBeGreaterThanOrEqual(40)
    expect(got.closed).toBe(false)
  }, 60_000)

  it('ends refused, disallowed and unknown targets with the END reason; RESOLVE answers from the table', async () => {
    const t = await simTor()
    const got = await inSim(t, async () => {
      const { circ } = await threeHop(t)
      const reasons: (number | undefined)[] = []
      for (const target of [
        { host: 'web', port: 81 },
        { host: 'web', port: 25 },
        { host: 'nowhere', port: 80 },
      ]) {
        try {
          await TorStream.open(t.client, circ, target)
          reasons.push(-1)
        } catch (e) {
          expect(e).toBeInstanceOf(StreamError)
          reasons.push((e as StreamError).reason)
        }
      }
      const found = await resolveOnCircuit(t.client, circ, 'web')
      const missing = await resolveOnCircuit(t.client, circ, 'nowhere')
      return { reasons, found, missing, open: !circ.closed }
    })
    expect(got.reasons).toEqual([EndReason.CONNECTREFUSED, EndReason.EXITPOLICY, EndReason.RESOLVEFAILED])
    expect(got.found).toHaveLength(1)
    expect(got.found[0].type).toBe(ResolvedType.IPV4)
    expect([...got.found[0].value].join('.')).toBe(WEB.address)
    expect(got.missing[0].type).toBe(ResolvedType.ERROR_NONTRANSIENT)
    expect(got.open).toBe(true)
  }, 30_000)

  it('a non-exit refuses BEGIN with EXITPOLICY', async () => {
    const t = await simTor()
    const reason = await inSim(t, async () => {
      const ch = await Channel.open(t.client, t.path[0])
      const circ = await Circuit.build(t.client, ch, t.path.slice(0, 2))
      return await TorStream.open(t.client, circ, { host: 'web', port: 80 }).then(
        () => -1,
        (e: StreamError) => e.reason,
      )
    })
    expect(reason).toBe(EndReason.EXITPOLICY)
  }, 30_000)

  it('a client overrunning the stream window loses the circuit', async () => {
    const t = await simTor()
    const err = await inSim(t, async () => {
      const { circ } = await threeHop(t)
      const s = await TorStream.open(t.client, circ, { host: 'sink', port: 80 })
      s.on('error', () => {})
      // Past the stream package window of 500: the sink reads nothing, so no stream SENDME comes.
      const cell = new Uint8Array(498).fill(0x61)
      for (let i = 0; i < 520 && !circ.closed; i++) circ.sendData(s.streamId, cell)
      return await new Promise<CircuitError>((r) => circ.onClose(r))
    })
    expect(err.code).toBe('destroyed')
    expect(err.reason).toBe(DestroyReason.PROTOCOL)
    expect(t.routers[2].stats.protocolViolations).toBe(1)
  }, 30_000)

  it('a garbage relay cell closes only the circuit it came on', async () => {
    const t = await simTor()
    const got = await inSim(t, async () => {
      const ch = await Channel.open(t.client, t.path[0])
      const bad = await Circuit.build(t.client, ch, t.path)
      const good = await Circuit.build(t.client, ch, t.path)
      const garbage = t.client.random(CELL_BODY_LEN)
      ch.send({ circId: bad.circId, command: ChanCmd.RELAY, body: garbage })
      const err = await new Promise<CircuitError>((r) => bad.onClose(r))
      const s = await TorStream.open(t.client, good, { host: 'web', port: 80 })
      s.write('GET /hello HTTP/1.0\r\n\r\n')
      const body = bodyOf(await collect(s)).toString()
      return { err, body, goodOpen: !good.closed, chOpen: !ch.closed }
    })
    expect(got.err.code).toBe('destroyed')
    expect(got.body).toBe('hello through the sim\n')
    expect(got.goodOpen).toBe(true)
    expect(got.chOpen).toBe(true)
    // The exit, where no layer recognised it, is the one that saw the violation.
    expect(t.routers[2].stats.protocolViolations).toBe(1)
  }, 30_000)

  it('CREATE_FAST + BEGIN_DIR: a one-hop directory fetch from the guard', async () => {
    const t = await simTor()
    const got = await inSim(t, async () => {
      const ch = await Channel.open(t.client, t.path[0])
      const circ = await Circuit.buildFast(t.client, ch, t.path[0])
      const text = await httpGet(t.client, await TorStream.open(t.client, circ, 'dir'), '/tor/server/authority')
      const missing = await httpGet(t.client, await TorStream.open(t.client, circ, 'dir'), '/tor/nothing').then(
        () => 0,
        (e: { status?: number }) => e.status,
      )
      // The middle is no directory cache: BEGIN_DIR there ends NOTDIRECTORY.
      const two = await Circuit.build(t.client, ch, t.path.slice(0, 2))
      const notDir = await TorStream.open(t.client, two, 'dir').then(
        () => -1,
        (e: StreamError) => e.reason,
      )
      return { text, missing, notDir }
    })
    expect(got.text.startsWith('router guard\n')).toBe(true)
    expect(got.text.length).toBe('router guard\n'.length + 300_000)
    expect(got.missing).toBe(404)
    expect(got.notDir).toBe(EndReason.NOTDIRECTORY)
  }, 30_000)

  it('EXTEND2 to nowhere or to the wrong identity: the client build fails with DESTROY (CONNECTFAILED); channels are reused', async () => {
    const t = await simTor()
    const got = await inSim(t, async () => {
      const ch = await Channel.open(t.client, t.path[0])
      const fail = (path: RelayTarget[]) =>
        Circuit.build(t.client, ch, path).then(
          () => undefined,
          (e: CircuitError) => e,
        )
      const noRelay = await fail([t.path[0], { ...t.path[1], port: 9999 }])
      const wrongId = await fail([t.path[0], { ...t.path[1], rsaId: keys[2].rsaId }])
      const a = await Circuit.build(t.client, ch, t.path)
      const b = await Circuit.build(t.client, ch, t.path)
      return { noRelay, wrongId, open: !a.closed && !b.closed }
    })
    for (const e of [got.noRelay, got.wrongId]) {
      expect(e).toBeInstanceOf(CircuitError)
      expect(e!.code).toBe('destroyed')
      expect(e!.reason).toBe(DestroyReason.CONNECTFAILED)
      expect(e!.failedHop).toBe(1)
    }
    expect(got.open).toBe(true)
    // Two circuits over guard → middle → exit: one channel per next relay, reused.
    expect(t.routers[0].stats.channelsOut).toBe(1)
    expect(t.routers[1].stats.channelsOut).toBe(1)
    expect(t.routers[0].stats.circuitsOpen).toBe(2)
  }, 30_000)

  it('works over seed-drawn links (latency, jitter, bandwidth, segmentation) for several seeds', async () => {
    for (const seed of [11, 12, 13]) {
      const t = await simTor(seed, { quiet: false })
      const body = await inSim(t, async () => {
        const { circ } = await threeHop(t)
        const s = await TorStream.open(t.client, circ, { host: 'web', port: 80 })
        s.write('GET /big HTTP/1.0\r\n\r\n')
        return bodyOf(await collect(s))
      })
      expect(sha(body), `seed ${seed}`).toBe(sha(BIG))
    }
  }, 60_000)

  it('reproduces: the same seed gives the same trace', async () => {
    const run = async (seed: number) => {
      const t = await simTor(seed, { quiet: false })
      await inSim(t, async () => {
        const { circ } = await threeHop(t)
        const s = await TorStream.open(t.client, circ, { host: 'web', port: 80 })
        s.write('GET /hello HTTP/1.0\r\n\r\n')
        return await collect(s)
      })
      return t.net.traceHash()
    }
    const first = await run(21)
    expect(await run(21)).toBe(first)
    expect(await run(22)).not.toBe(first)
  }, 30_000)

  it('stop() of the middle: the client circuit errors out, the guard forgets it', async () => {
    const t = await simTor()
    const got = await inSim(t, async () => {
      const { circ } = await threeHop(t)
      const s = await TorStream.open(t.client, circ, { host: 'web', port: 80 })
      s.on('error', () => {})
      const closed = new Promise<CircuitError>((r) => circ.onClose(r))
      await t.routers[1].stop()
      const err = await closed
      await new Promise((r) => t.client.setTimer(1000, () => r(undefined))) // the exit hears of it a latency later
      return { err, streamDestroyed: s.destroyed }
    })
    expect(got.err).toBeInstanceOf(CircuitError)
    expect(got.err.code).toBe('destroyed')
    expect(got.err.reason).toBe(DestroyReason.CHANNEL_CLOSED)
    expect(got.streamDestroyed).toBe(true)
    expect(t.routers[0].stats.circuitsOpen).toBe(0)
    expect(t.routers[2].stats.circuitsOpen).toBe(0)
    expect(t.routers[2].stats.streamsOpen).toBe(0)
  }, 30_000)
})

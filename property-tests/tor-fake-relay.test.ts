// A fake relay in the simulated network, speaking real TLS with keys it generated, feeds our
// client's Channel and Circuit random and mutated cells (issue #4, "bad input"). Two properties:
//
//  1. Handshake: the relay's VERSIONS, CERTS, AUTH_CHALLENGE, NETINFO bytes, mutated (or not) and
//     mixed with random cells. Unmutated, the channel opens; otherwise Channel.open resolves or
//     rejects with a ChannelError, within the handshake deadline — never another error, never a hang.
//  2. After a CREATE_FAST circuit is built: a stream of random cells, mutated sealed relay cells,
//     sealed cells with random relay commands, DESTROYs, garbage bytes. Every close is a typed
//     CircuitError/ChannelError, nothing escapes, and a second circuit to a well-behaved relay on
//     another channel still serves a stream afterwards (the client survives and serves others).
//
// The well-behaved relay is the project's own OnionRouter (src/tor/relay), answering BEGIN_DIR.

import fc from 'fast-check'
import type { TLSSocket } from 'node:tls'
import { describe, expect, it } from 'vitest'
import type { Conn } from '../src/net/world.js'
import { SimNetwork } from '../src/net/sim/network.js'
import { acceptTls } from '../src/tls/accept.js'
import { CELL_BODY_LEN, CellReader, ChanCmd, encodeCell, isVariableLength, MAX_VAR_BODY_LEN, type ChannelCell } from '../src/wire/tor/cell.js'
import { chanMsgCell, decodeChanMsg, NetinfoAddrType } from '../src/wire/tor/chan-msg.js'
import { encodeRelayCell } from '../src/wire/tor/relay-cell.js'
import { createFastServer } from '../src/crypto/tor/create-fast.js'
import { splitTor1Keys } from '../src/crypto/tor/kdf-rfc5869.js'
import { Tor1RelayLayer } from '../src/crypto/tor/relay-crypto.js'
import { concatBytes } from '../src/wire/bytes.js'
import { Channel } from '../src/tor/channel/channel.js'
import { Circuit } from '../src/tor/circuit/circuit.js'
import { TorStream } from '../src/tor/stream/stream.js'
import { httpGet } from '../src/tor/dir/http-get.js'
import { ChannelError, CircuitError, StreamError } from '../src/tor/errors.js'
import { generateRelayKeys, type RelayKeys } from '../src/tor/relay/keys.js'
import { relayCerts } from '../src/tor/relay/certs-cell.js'
import { OnionRouter } from '../src/tor/relay/onion-router.js'
import { Rng } from '../src/net/sim/rng.js'
import { mutate, mutation, type Mutation } from './support.js'

// Each run is a whole sim with real TLS handshakes (~10–25 ms here): these counts keep each suite
// well under a minute in `make test`.
const RUNS_HANDSHAKE = process.env.SULTRY_QUICK ? 100 : 2_000
const RUNS_CIRCUIT = process.env.SULTRY_QUICK ? 50 : 1_000

const FAKE = { host: 'fake', address: '10.0.9.1', port: 9001 }
const GOOD = { host: 'good', address: '10.0.9.2', port: 9001 }

// Keys are generated once (deterministically) and shared by every run: the properties vary behaviour.
const keysFrom = (seed: string, nick: string): RelayKeys => {
  const rng = new Rng(0).stream(seed)
  return generateRelayKeys((n) => rng.bytes(n), nick, 0)
}
const fakeKeys = keysFrom('fake-relay', 'fake')
const goodKeys = keysFrom('good-relay', 'good')

const typed = (e: unknown) => e instanceof ChannelError || e instanceof CircuitError || e instanceof StreamError

/** The relay's half of the link handshake, as bytes, after the client's VERSIONS. */
function handshakeBytes(keys: RelayKeys, nowMs: number, clientAddress: string): Uint8Array {
  const ip = Uint8Array.from(clientAddress.split('.').map(Number))
  return concatBytes(
    encodeCell(chanMsgCell(0, { cmd: 'VERSIONS', versions: [4, 5] }), 2),
    encodeCell(chanMsgCell(0, { cmd: 'CERTS', certs: relayCerts(keys, nowMs) }), 4),
    encodeCell(chanMsgCell(0, { cmd: 'AUTH_CHALLENGE', challenge: new Uint8Array(32).fill(9), methods: [1, 3] }), 4),
    encodeCell(
      chanMsgCell(0, {
        cmd: 'NETINFO',
        timestamp: Math.floor(nowMs / 1000),
        otherAddress: { type: NetinfoAddrType.IPV4, value: ip },
        myAddresses: [{ type: NetinfoAddrType.IPV4, value: Uint8Array.from([10, 0, 9, 1]) }],
      }),
      4,
    ),
  )
}

interface FakeRelayScript {
  /** Mutations of the handshake bytes (none = an honest handshake). */
  handshakeMutations: Mutation[]
  /** Random cells inserted before NETINFO's bytes, as raw bytes. */
  noise: Uint8Array[]
}

/** Starts the fake relay: TLS with the fake keys, waits for the client's first bytes, sends `bytes()`. */
async function listenFake(net: SimNetwork, onLink: (link: TLSSocket, conn: Conn) => void): Promise<void> {
  const host = net.host(FAKE.host)!
  await host.world.net.listen(FAKE.port, (conn) => {
    conn.on('error', () => {})
    acceptTls(host.world, conn, { key: fakeKeys.tls.keyPem, cert: fakeKeys.tls.certPem, minVersion: 'TLSv1.2' }).then(
      (link) => {
        link.on('error', () => {})
        onLink(link, conn)
      },
      () => {},
    )
  })
}

function topology(seed: number): SimNetwork {
  const net = new SimNetwork(seed)
  net.addHost('client', '10.0.0.1')
  net.addHost(FAKE.host, FAKE.address)
  net.addHost(GOOD.host, GOOD.address)
  net.link('client', FAKE.host)
  net.link('client', GOOD.host)
  return net
}

const rawCell = fc.record({
  circId: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
  command: fc.oneof(fc.constantFrom(ChanCmd.RELAY, ChanCmd.RELAY_EARLY, ChanCmd.DESTROY, ChanCmd.CREATED2, ChanCmd.CREATED_FAST, ChanCmd.NETINFO, ChanCmd.VPADDING, ChanCmd.PADDING), fc.integer({ min: 0, max: 255 })),
  body: fc.uint8Array({ maxLength: 600 }),
})

function encodeRaw(c: { circId: number; command: number; body: Uint8Array }): Uint8Array {
  // encodeCell pads a fixed-size body to 509 bytes; cut what it would refuse.
  const max = isVariableLength(c.command) ? MAX_VAR_BODY_LEN : CELL_BODY_LEN
  return encodeCell({ circId: c.circId >>> 0, command: c.command, body: c.body.subarray(0, max) }, 4)
}

describe('a fake relay over real TLS: random and mutated link handshakes', () => {
  it('the channel opens on an honest handshake, otherwise opens or fails with a ChannelError, never hangs', async () => {
    const seen = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.array(mutation, { maxLength: 3 }),
        fc.array(rawCell, { maxLength: 3 }),
        async (seed, handshakeMutations, noiseCells) => {
          const script: FakeRelayScript = { handshakeMutations, noise: noiseCells.map(encodeRaw) }
          const net = topology(seed)
          const client = net.host('client')!
          await listenFake(net, (link) => {
            link.once('data', () => {
              const hs = handshakeBytes(fakeKeys, net.sched.now(), client.address)
              const cut = hs.length - 4 - 509 // NETINFO is the last fixed-size cell
              const withNoise = concatBytes(hs.subarray(0, cut), ...script.noise, hs.subarray(cut))
              link.write(mutate(withNoise, script.handshakeMutations))
            })
          })
          const outcome = Channel.open(client.world, { host: FAKE.address, port: FAKE.port }, { handshakeTimeoutMs: 10_000 }).then(
            (ch) => ({ ch, err: undefined as unknown }),
            (err: unknown) => ({ ch: undefined, err }),
          )
          await net.run({ until: outcome, maxVirtualMs: 60_000 })
          const { ch, err } = await outcome
          ch?.close()
          const k = err === undefined ? 'opened' : (err as ChannelError).code
          seen.set(k, (seen.get(k) ?? 0) + 1)
          if (err !== undefined && !(err instanceof ChannelError)) throw err
          if (script.handshakeMutations.length === 0 && script.noise.length === 0) {
            expect(err, `seed ${seed}`).toBeUndefined()
            expect(ch!.peer.rsaId).toEqual(fakeKeys.rsaId)
          }
        },
      ),
      { numRuns: RUNS_HANDSHAKE },
    )
    console.log(`fake relay handshakes: ${[...seen].map(([k, n]) => `${k} ${n}`).join(', ')}`)
    // The runs must reach both outcomes, or the property tested less than it claims.
    expect(seen.get('opened') ?? 0).toBeGreaterThan(0)
    expect(seen.get('certs') ?? 0).toBeGreaterThan(0)
  }, 600_000)
})

type Act =
  | { kind: 'raw'; cell: { circId: number; command: number; body: Uint8Array }; onOurCircuit: boolean }
  | { kind: 'sealed'; relayCommand: number; streamId: number; body: Uint8Array; mutations: Mutation[] }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'destroy'; reason: number }

const act: fc.Arbitrary<Act> = fc.oneof(
  rawCell.chain((cell) => fc.boolean().map((onOurCircuit) => ({ kind: 'raw' as const, cell, onOurCircuit }))),
  fc.record({
    kind: fc.constant('sealed' as const),
    relayCommand: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(2, 3, 4, 5, 6, 9, 12, 15)),
    streamId: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })),
    body: fc.uint8Array({ maxLength: 498 }),
    mutations: fc.array(mutation, { maxLength: 2 }),
  }),
  fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 700 }) }),
  fc.record({ kind: fc.constant('destroy' as const), reason: fc.integer({ min: 0, max: 255 }) }),
)

describe('a fake relay over real TLS: random and mutated cells on an open channel and circuit', () => {
  it('only typed errors, closed circuits/channels, and another relay still serves a stream', async () => {
    const outcomes = new Map<string, number>()
    const good = { dirRequest: (path: string) => ({ status: 200, body: `dir ${path}\n` }) }
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 0x7fffffff }), fc.array(act, { minLength: 1, maxLength: 12 }), async (seed, acts) => {
        const net = topology(seed)
        const client = net.host('client')!
        const goodHost = net.host(GOOD.host)!
        const router = await OnionRouter.start(goodHost.world, { keys: goodKeys, orPort: GOOD.port, address: GOOD.address, dirRequest: good.dirRequest })
        let scriptDone!: () => void
        const scriptSent = new Promise<void>((r) => (scriptDone = r))
        await listenFake(net, (link) => {
          const reader = new CellReader()
          let layer: Tor1RelayLayer | undefined
          let sentHandshake = false
          link.on('data', (chunk: Buffer) => {
            if (!sentHandshake) {
              sentHandshake = true
              link.write(handshakeBytes(fakeKeys, net.sched.now(), client.address))
              reader.setLinkVersion(4)
              return // the client's VERSIONS: ignore
            }
            for (const ev of reader.receive(new Uint8Array(chunk))) {
              if (ev.kind !== 'cell' || ev.cell.command !== ChanCmd.CREATE_FAST) continue
              const m = decodeChanMsg(ev.cell.command, ev.cell.body)
              if (m.cmd !== 'CREATE_FAST') continue
              const Y = fakeHost.world.random(20)
              const { reply, keyMaterial } = createFastServer(m.handshakeData, Y)
              layer = new Tor1RelayLayer(splitTor1Keys(keyMaterial))
              const circId = ev.cell.circId
              link.write(encodeCell(chanMsgCell(circId, { cmd: 'CREATED_FAST', handshakeData: reply }), 4))
              // The fuzz, spread over virtual time so the client handles each part separately.
              acts.forEach((a, i) =>
                fakeHost.world.setTimer(10 * (i + 1), () => {
                  if (!link.destroyed) link.write(encodeAct(a, circId, layer!))
                  if (i === acts.length - 1) scriptDone()
                }),
              )
            }
          })
        })
        const fakeHost = net.host(FAKE.host)!
        const closes: unknown[] = []
        const outcome = (async () => {
          const goodCh = await Channel.open(client.world, { host: GOOD.address, port: GOOD.port })
          const goodCirc = await Circuit.buildFast(client.world, goodCh, { host: GOOD.address, port: GOOD.port, rsaId: goodKeys.rsaId, nickname: 'good' })
          const ch = await Channel.open(client.world, { host: FAKE.address, port: FAKE.port })
          ch.onClose((e) => closes.push(e))
          const circ = await Circuit.buildFast(client.world, ch, { host: FAKE.address, port: FAKE.port, rsaId: fakeKeys.rsaId, nickname: 'fake' })
          circ.onClose((e) => closes.push(e))
          await scriptSent
          await new Promise<void>((r) => client.world.setTimer(200, r))
          // The well-behaved relay on its own channel still answers a directory request.
          const s = await TorStream.open(client.world, goodCirc, 'dir')
          const body = await httpGet(client.world, s, '/tor/fuzz-check')
          goodCirc.destroy()
          ch.close()
          goodCh.close()
          return body
        })()
        outcome.catch(() => {})
        await net.run({ until: outcome, maxVirtualMs: 120_000 })
        const body = await outcome
        await router.stop()
        expect(body, `seed ${seed}`).toBe('dir /tor/fuzz-check\n')
        for (const e of closes) if (!typed(e)) throw e
        const k = closes.length ? closes.map((e) => (e as CircuitError).code).join('+') : 'still open'
        outcomes.set(k, (outcomes.get(k) ?? 0) + 1)
      }),
      { numRuns: RUNS_CIRCUIT },
    )
    console.log(`fake relay circuits: ${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}`)
    expect([...outcomes.keys()].some((k) => k !== 'still open')).toBe(true)
  }, 900_000)
})

/** One fuzz action as bytes on the link; `layer` seals relay cells the way the relay would. */
function encodeAct(a: Act, circId: number, layer: Tor1RelayLayer): Uint8Array {
  switch (a.kind) {
    case 'raw':
      return encodeRaw(a.onOurCircuit ? { ...a.cell, circId } : a.cell)
    case 'bytes':
      return a.bytes
    case 'destroy':
      return encodeCell(chanMsgCell(circId, { cmd: 'DESTROY', reason: a.reason }), 4)
    case 'sealed': {
      // A relay cell with a correct digest and our layer of encryption, then (maybe) mutated.
      const body = encodeRelayCell({ relayCommand: a.relayCommand, recognized: 0, streamId: a.streamId, digest: new Uint8Array(4), data: a.body })
      layer.originateBackward(body)
      const cell: ChannelCell = { circId, command: ChanCmd.RELAY, body: mutate(body, a.mutations).subarray(0, CELL_BODY_LEN) }
      return encodeCell(cell, 4)
    }
  }
}

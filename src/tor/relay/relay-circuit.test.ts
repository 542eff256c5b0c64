// One RelayCircuit driven cell by cell from the client's side of tor1 (Tor1ClientCrypto with the
// same keys), its output decrypted and counted: the windows hold exactly (500 cells per stream,
// 1000 per circuit, +100 only for a SENDME naming the right digest), the relay's own SENDMEs come
// every 100 circuit / 50 stream cells with the digest the client will check, and each protocol
// violation costs the circuit a DESTROY.

import { describe, expect, it } from 'vitest'
import { splitTor1Keys } from '../../crypto/tor/kdf-rfc5869.js'
import { Tor1ClientCrypto } from '../../crypto/tor/relay-crypto.js'
import { SimNetwork } from '../../net/sim/network.js'
import { quietLink } from '../../net/sim/test-helpers.js'
import { RngStream } from '../../net/sim/rng.js'
import { equalBytes } from '../../wire/bytes.js'
import { ChanCmd, type ChannelCell } from '../../wire/tor/cell.js'
import { DestroyReason, decodeChanMsg } from '../../wire/tor/chan-msg.js'
import { decodeRelayMsgCell, encodeRelayMsgCell, type RelayMsg } from '../../wire/tor/relay-msg.js'
import { ChannelPool } from './channel-pool.js'
import { RelayCircuit, newRelayCounters, type RelayContext } from './relay-circuit.js'

const CIRC_ID = 0x80000001
const PAYLOAD = new Uint8Array(498).fill(0x42)

type Out = { kind: 'relay'; streamId: number; msg: RelayMsg; digest: Uint8Array } | { kind: 'destroy'; reason: number }

async function setup(seed = 1) {
  const net = new SimNetwork({ seed, policy: 'queue' })
  const exit = net.addHost('exit', '10.0.1.3')
  const web = net.addHost('web', '10.0.2.1')
  net.link('exit', 'web', { ab: quietLink, ba: quietLink })
  // An endless source that also reads whatever it is sent.
  await web.world.net.listen(80, (c) => {
    c.on('error', () => {})
    c.resume()
    const chunk = Buffer.alloc(64 * 1024, 0x5a)
    const more = () => {
      while (!c.destroyed && c.write(chunk));
    }
    c.on('drain', more)
    more()
  })
  const rng = new RngStream(seed, 'relay-circuit-test')
  const keys = splitTor1Keys(rng.bytes(72))
  const client = new Tor1ClientCrypto()
  client.addHop(keys)
  const sent: ChannelCell[] = []
  const prev = { closed: false, send: (c: ChannelCell) => void sent.push(c) }
  const ctx: RelayContext = { world: exit.world, pool: new ChannelPool(exit.world), exit: {}, counters: newRelayCounters(), crashed: false }
  let closedCb = 0
  const circ = new RelayCircuit(ctx, prev, CIRC_ID, keys, () => closedCb++)
  let taken = 0
  /** Everything the relay sent toward the client since the last call, decrypted. */
  const take = (): Out[] => {
    const out: Out[] = []
    for (; taken < sent.length; taken++) {
      const c = sent[taken]
      expect(c.circId).toBe(CIRC_ID)
      if (c.command === ChanCmd.DESTROY) {
        const m = decodeChanMsg(c.command, c.body)
        out.push({ kind: 'destroy', reason: m.cmd === 'DESTROY' ? m.reason : -1 })
        continue
      }
      expect(c.command).toBe(ChanCmd.RELAY)
      const body = c.body.slice()
      const hit = client.decryptInbound(body)
      expect(hit).toBeDefined()
      const { streamId, msg } = decodeRelayMsgCell(body)
      out.push({ kind: 'relay', streamId, msg, digest: hit!.digest })
    }
    return out
  }
  /** Sends a relay message from the client; returns the running digest of the cell. */
  const send = (msg: RelayMsg, streamId: number, early = false): Uint8Array => {
    const body = encodeRelayMsgCell(msg, streamId)
    const digest = client.encryptOutbound(body, 0)
    circ.onPrevCell({ circId: CIRC_ID, command: early ? ChanCmd.RELAY_EARLY : ChanCmd.RELAY, body })
    return digest
  }
  const settle = () => net.run()
  return { net, circ, ctx, take, send, settle, closed: () => closedCb }
}

const data = (o: Out[]) => o.filter((x): x is Extract<Out, { kind: 'relay' }> => x.kind === 'relay' && x.msg.cmd === 'DATA')

describe('RelayCircuit windows', () => {
  it('packages exactly 500 cells per stream and 1000 per circuit, then 100 more per authenticated SENDME', async () => {
    const t = await setup()
    t.send({ cmd: 'BEGIN', address: 'web', port: 80, flags: 0 }, 1)
    await t.settle()
    let out = t.take()
    expect(out[0]).toMatchObject({ kind: 'relay', streamId: 1, msg: { cmd: 'CONNECTED' } })
    const first = data(out)
    expect(first).toHaveLength(500)
    expect(first.every((c) => c.streamId === 1 && c.msg.cmd === 'DATA' && c.msg.data.length > 0 && c.msg.data.length <= 498)).toBe(true)

    t.send({ cmd: 'BEGIN', address: 'web', port: 80, flags: 0 }, 2)
    await t.settle()
    expect(data(t.take())).toHaveLength(500)

    // The circuit window (1000) is spent: a third stream connects but gets nothing, and stream SENDMEs do not help.
    t.send({ cmd: 'BEGIN', address: 'web', port: 80, flags: 0 }, 3)
    t.send({ cmd: 'SENDME', version: 0 }, 1)
    await t.settle()
    out = t.take()
    expect(out.map((o) => (o.kind === 'relay' ? o.msg.cmd : o.kind))).toEqual(['CONNECTED'])

    // A SENDME v1 naming the 100th DATA cell's digest opens the window by exactly 100.
    t.send({ cmd: 'SENDME', version: 1, digest: first[99].digest }, 0)
    await t.settle()
    expect(data(t.take())).toHaveLength(100)

    // The next SENDME must name the 200th cell; any other digest is a forgery and costs the circuit.
    const forged = first[199].digest.slice()
    forged[0] ^= 1
    t.send({ cmd: 'SENDME', version: 1, digest: forged }, 0)
    await t.settle()
    expect(t.take()).toContainEqual({ kind: 'destroy', reason: DestroyReason.PROTOCOL })
    expect(t.circ.closed).toBe(true)
    expect(t.closed()).toBe(1)
    expect(t.ctx.counters.streamsOpen).toBe(0)
  })

  it('answers every 100 client DATA cells with a SENDME v1 carrying the 100th cell digest, and every 50 with a stream SENDME', async () => {
    const t = await setup()
    t.send({ cmd: 'BEGIN', address: 'web', port: 80, flags: 0 }, 7)
    await t.settle()
    t.take()
    const digests: Uint8Array[] = []
    const replies: Out[] = []
    for (let i = 0; i < 250; i++) {
      digests.push(t.send({ cmd: 'DATA', data: PAYLOAD }, 7))
      await t.settle()
      replies.push(...t.take().filter((o) => o.kind === 'relay' && o.msg.cmd === 'SENDME'))
    }
    const circuitLevel = replies.filter((o) => o.kind === 'relay' && o.streamId === 0)
    const streamLevel = replies.filter((o) => o.kind === 'relay' && o.streamId === 7)
    expect(circuitLevel).toHaveLength(2)
    for (const [i, s] of circuitLevel.entries()) {
      const msg = (s as Extract<Out, { kind: 'relay' }>).msg
      expect(msg).toMatchObject({ cmd: 'SENDME', version: 1 })
      expect(equalBytes((msg as { digest: Uint8Array }).digest, digests[100 * (i + 1) - 1])).toBe(true)
    }
    expect(streamLevel).toHaveLength(5)
    expect(streamLevel.every((s) => s.kind === 'relay' && s.msg.cmd === 'SENDME' && s.msg.version === 0)).toBe(true)
    expect(t.circ.closed).toBe(false)
  })
})

describe('RelayCircuit optimistic data', () => {
  it('holds DATA sent before CONNECTED without acknowledging it; the stream SENDME comes once the target took it', async () => {
    const t = await setup()
    t.send({ cmd: 'BEGIN', address: 'web', port: 80, flags: 0 }, 3)
    for (let i = 0; i < 60; i++) t.send({ cmd: 'DATA', data: PAYLOAD }, 3)
    const sendmes = (o: Out[]) => o.filter((x) => x.kind === 'relay' && x.streamId === 3 && x.msg.cmd === 'SENDME')
    expect(sendmes(t.take())).toHaveLength(0)
    await t.settle()
    const out = t.take()
    expect(out[0]).toMatchObject({ kind: 'relay', streamId: 3, msg: { cmd: 'CONNECTED' } })
    expect(sendmes(out)).toHaveLength(1)
  })
})

describe('RelayCircuit protocol violations', () => {
  const cases: [string, (t: Awaited<ReturnType<typeof setup>>) => void][] = [
    ['a cell no layer recognises, with no next hop', (t) => t.circ.onPrevCell({ circId: CIRC_ID, command: ChanCmd.RELAY, body: new Uint8Array(509).fill(7) })],
    ['EXTEND2 in a plain RELAY cell', (t) => t.send({ cmd: 'EXTEND2', linkSpecifiers: [{ lstype: 0, address: Uint8Array.of(10, 0, 1, 2), port: 9001 }, { lstype: 2, rsaId: new Uint8Array(20) }], handshakeType: 2, handshakeData: new Uint8Array(84) }, 0)],
    ['EXTEND2 without an RSA identity', (t) => t.send({ cmd: 'EXTEND2', linkSpecifiers: [{ lstype: 0, address: Uint8Array.of(10, 0, 1, 2), port: 9001 }], handshakeType: 2, handshakeData: new Uint8Array(84) }, 0, true)],
    ['a ninth RELAY_EARLY', (t) => {
      for (let i = 0; i < 9; i++) t.send({ cmd: 'DROP' }, 0, true)
    }],
    ['DATA on stream 0', (t) => t.send({ cmd: 'DATA', data: PAYLOAD }, 0)],
    ['a circuit SENDME with nothing to acknowledge', (t) => t.send({ cmd: 'SENDME', version: 1, digest: new Uint8Array(20) }, 0)],
    ['CONNECTED from the client', (t) => t.send({ cmd: 'CONNECTED' }, 5)],
    ['a second CREATE on the circuit id', (t) => t.circ.onPrevCell({ circId: CIRC_ID, command: ChanCmd.CREATE_FAST, body: new Uint8Array(509) })],
  ]
  for (const [name, act] of cases) {
    it(`${name}: DESTROY (PROTOCOL)`, async () => {
      const t = await setup()
      act(t)
      await t.settle()
      expect(t.take()).toEqual([{ kind: 'destroy', reason: DestroyReason.PROTOCOL }])
      expect(t.circ.closed).toBe(true)
      expect(t.ctx.counters.circuitsOpen).toBe(0)
    })
  }

  it('DROP, unknown relay commands and eight RELAY_EARLY cells are fine', async () => {
    const t = await setup()
    for (let i = 0; i < 8; i++) t.send({ cmd: 'DROP' }, 0, true)
    t.send({ cmd: 'unrecognized', relayCommand: 77, body: new Uint8Array(3) }, 0)
    await t.settle()
    expect(t.take()).toEqual([])
    expect(t.circ.closed).toBe(false)
  })

  it('DESTROY from the client closes without answering; its streams go', async () => {
    const t = await setup()
    t.send({ cmd: 'BEGIN', address: 'web', port: 80, flags: 0 }, 1)
    await t.settle()
    t.take()
    expect(t.ctx.counters.streamsOpen).toBe(1)
    t.circ.onPrevCell({ circId: CIRC_ID, command: ChanCmd.DESTROY, body: Uint8Array.of(DestroyReason.REQUESTED) })
    await t.settle()
    expect(t.take()).toEqual([])
    expect(t.circ.closed).toBe(true)
    expect(t.ctx.counters.streamsOpen).toBe(0)
  })
})

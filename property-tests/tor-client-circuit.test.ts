// A fake relay feeding a real client Circuit (src/tor/circuit) random and mutated cells: the
// circuit never throws out of onCell, anything it cannot recognise or decode closes it with a
// CircuitError (tor-spec §5.5: unrecognised cells tear the circuit down), DESTROY closes it with
// the relay's reason, and correctly sealed cells keep it open. The relay side is the project's own
// ntor server and tor1 relay layer, so the circuit's keys are real.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { x25519 } from '@noble/curves/ed25519.js'
import type { World } from '../src/net/world.js'
import { ChanCmd, CELL_BODY_LEN, type ChannelCell } from '../src/wire/tor/cell.js'
import { chanMsgCell, decodeChanMsg } from '../src/wire/tor/chan-msg.js'
import { encodeRelayMsgCell, type RelayMsg } from '../src/wire/tor/relay-msg.js'
import { ntorServerRespond } from '../src/crypto/tor/ntor.js'
import { splitTor1Keys } from '../src/crypto/tor/kdf-rfc5869.js'
import { Tor1RelayLayer } from '../src/crypto/tor/relay-crypto.js'
import type { Channel, CircuitEndpoint } from '../src/tor/channel/channel.js'
import { Circuit } from '../src/tor/circuit/circuit.js'
import { CircuitError } from '../src/tor/errors.js'

// Each run builds a circuit (five x25519 operations, ~10 ms on this machine): 1000 runs keep a suite near 10 s.
const RUNS = process.env.SULTRY_QUICK === '1' ? 300 : 1_000

function seededWorld(seed: number): World {
  let s = seed >>> 0 || 1
  const next = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), s >>> 0)
  return {
    now: () => 1_800_000_000_000,
    setTimer: () => ({ cancel() {} }), // build timeouts never fire here
    random: (n) => Uint8Array.from({ length: n }, () => next() & 255),
    net: { connect: () => Promise.reject(new Error('no network')), listen: () => Promise.reject(new Error('no network')) },
    trace() {},
  }
}

const relaySecret = Uint8Array.from({ length: 32 }, (_, i) => i + 1)
const relay = { nodeId: new Uint8Array(20).fill(7), ntorOnionKey: x25519.getPublicKey(relaySecret), ntorOnionSecret: relaySecret }

/** A one-hop circuit to a fake relay; returns the circuit and the relay's layer. */
async function oneHop(seed: number): Promise<{ circ: Circuit; layer: () => Tor1RelayLayer; deliver: (c: ChannelCell) => void; sent: ChannelCell[] }> {
  const world = seededWorld(seed)
  let endpoint: CircuitEndpoint | undefined
  let layer: Tor1RelayLayer | undefined
  const sent: ChannelCell[] = []
  const channel = {
    closed: false,
    register(ep: CircuitEndpoint) {
      endpoint = ep
      return 0x80000001
    },
    unregister() {},
    send(cell: ChannelCell) {
      sent.push(cell)
      if (cell.command === ChanCmd.CREATE2) {
        const m = decodeChanMsg(cell.command, cell.body)
        if (m.cmd !== 'CREATE2') throw new Error('bad CREATE2')
        const { reply, keyMaterial } = ntorServerRespond(m.handshakeData, relay, world.random(32))
        layer = new Tor1RelayLayer(splitTor1Keys(keyMaterial))
        endpoint!.onCell(chanMsgCell(cell.circId, { cmd: 'CREATED2', handshakeData: reply }))
      }
    },
  }
  const circ = await Circuit.build(world, channel as unknown as Channel, [{ host: '10.0.0.1', port: 9001, rsaId: relay.nodeId, ntorOnionKey: relay.ntorOnionKey }])
  return { circ, layer: () => layer!, deliver: (c) => endpoint!.onCell(c), sent }
}

function sealed(layer: Tor1RelayLayer, msg: RelayMsg, streamId = 0): Uint8Array {
  const body = encodeRelayMsgCell(msg, streamId)
  layer.originateBackward(body)
  return body
}

const relayCell = (body: Uint8Array): ChannelCell => ({ circId: 0x80000001, command: ChanCmd.RELAY, body })

describe('client circuit fed by a fake relay', () => {
  it('sealed DROP cells keep it open; one flipped bit anywhere closes it with a protocol error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1 }), fc.integer({ min: 0, max: 5 }), fc.nat(CELL_BODY_LEN * 8 - 1), async (seed, drops, bit) => {
        const { circ, layer, deliver } = await oneHop(seed)
        for (let i = 0; i < drops; i++) deliver(relayCell(sealed(layer(), { cmd: 'DROP' })))
        expect(circ.closed).toBe(false)
        const body = sealed(layer(), { cmd: 'DROP' })
        body[bit >> 3] ^= 1 << (bit & 7)
        deliver(relayCell(body))
        expect(circ.closed).toBe(true)
        expect(circ.closeError).toBeInstanceOf(CircuitError)
        expect(circ.closeError!.code).toBe('protocol')
      }),
      { numRuns: RUNS },
    )
  })

  it('random cells of any command never escape onCell; unusable ones close the circuit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 0, maxLength: CELL_BODY_LEN }), async (seed, command, raw) => {
        const { circ, deliver } = await oneHop(seed)
        const body = new Uint8Array(CELL_BODY_LEN)
        body.set(raw)
        expect(() => deliver({ circId: 0x80000001, command, body })).not.toThrow()
        if (command === ChanCmd.DESTROY) {
          expect(circ.closeError?.code).toBe('destroyed')
          expect(circ.closeError?.reason).toBe(body[0])
        } else {
          // RELAY garbage is unrecognised; anything else is not a cell a client circuit accepts here.
          expect(circ.closed).toBe(true)
          expect(circ.closeError).toBeInstanceOf(CircuitError)
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('DATA on a stream it does not know is counted, and every 100th cell gets a SENDME v1', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1 }), async (seed) => {
        const { circ, layer, deliver, sent } = await oneHop(seed)
        // After we ended a stream, its cells in flight still count against the circuit window.
        for (let i = 0; i < 1000; i++) deliver(relayCell(sealed(layer(), { cmd: 'DATA', data: new Uint8Array(1) }, 9)))
        expect(circ.closed).toBe(false)
        const sendmes = sent.filter((c) => c.command === ChanCmd.RELAY).length
        expect(sendmes).toBe(10) // one SENDME v1 per 100 DATA cells
        expect(circ.deliverWindow).toBe(1000)
      }),
      { numRuns: Math.min(RUNS, 50) },
    )
  })
})

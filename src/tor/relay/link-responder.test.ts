// The responder handshake state machine on its own, and the ResponderChannel over a sim connection
// fed bad input: each must end in a clean close (a refused handshake, counted), never a throw.

import { describe, expect, it } from 'vitest'
import { SimNetwork } from '../../net/sim/network.js'
import { quietLink } from '../../net/sim/test-helpers.js'
import { RngStream } from '../../net/sim/rng.js'
import { connectTls } from '../../tls/connect.js'
import { CellReader, ChanCmd, encodeCell, type ChannelCell } from '../../wire/tor/cell.js'
import { chanMsgCell, decodeChanMsg, NetinfoAddrType } from '../../wire/tor/chan-msg.js'
import { ChannelError } from '../errors.js'
import { generateRelayKeys } from './keys.js'
import { LinkResponder, netinfoAddress } from './link-responder.js'
import { OnionRouter } from './onion-router.js'

const CERTS = [{ certType: 2, body: Uint8Array.of(1, 2, 3) }]
const flight = () => ({ certs: CERTS, challenge: new Uint8Array(32).fill(9), timeSeconds: 1_800_000_000, peerAddress: '10.0.0.1', myAddress: '10.0.1.1' })
const cell = (msg: Parameters<typeof chanMsgCell>[1]): ChannelCell => chanMsgCell(0, msg)

describe('LinkResponder', () => {
  it('answers VERSIONS with the highest common version and the full flight, opens on NETINFO', () => {
    const hs = new LinkResponder(flight)
    const step = hs.onCell(cell({ cmd: 'VERSIONS', versions: [3, 4, 5, 6] }))
    if (step.kind !== 'reply') throw new Error(`got ${step.kind}`)
    expect(step.linkVersion).toBe(5)
    expect(decodeChanMsg(step.versions.command, step.versions.body)).toEqual({ cmd: 'VERSIONS', versions: [4, 5] })
    const msgs = step.flight.map((c) => decodeChanMsg(c.command, c.body))
    expect(msgs.map((m) => m.cmd)).toEqual(['CERTS', 'AUTH_CHALLENGE', 'NETINFO'])
    expect(msgs[0]).toEqual({ cmd: 'CERTS', certs: CERTS })
    expect(msgs[1]).toMatchObject({ cmd: 'AUTH_CHALLENGE', methods: [1, 3] })
    expect(msgs[2]).toMatchObject({
      cmd: 'NETINFO',
      timestamp: 1_800_000_000,
      otherAddress: { type: NetinfoAddrType.IPV4, value: Uint8Array.of(10, 0, 0, 1) },
      myAddresses: [{ type: NetinfoAddrType.IPV4, value: Uint8Array.of(10, 0, 1, 1) }],
    })
    expect(hs.onCell({ circId: 0, command: ChanCmd.VPADDING, body: new Uint8Array(7) }).kind).toBe('continue')
    const open = hs.onCell(cell({ cmd: 'NETINFO', timestamp: 0, otherAddress: netinfoAddress('10.0.1.1'), myAddresses: [] }))
    expect(open.kind).toBe('open')
  })

  it('refuses what is not a link handshake with a ChannelError', () => {
    const bad: [string, ChannelCell[]][] = [
      ['no common version', [cell({ cmd: 'VERSIONS', versions: [1, 2, 3] })]],
      ['NETINFO first', [cell({ cmd: 'NETINFO', timestamp: 0, otherAddress: netinfoAddress('1.2.3.4'), myAddresses: [] })]],
      ['CREATE2 before NETINFO', [cell({ cmd: 'VERSIONS', versions: [4] }), chanMsgCell(5, { cmd: 'CREATE2', handshakeType: 2, handshakeData: new Uint8Array(84) })]],
      ['malformed VERSIONS', [{ circId: 0, command: ChanCmd.VERSIONS, body: new Uint8Array(3) }]],
    ]
    for (const [what, cells] of bad) {
      const hs = new LinkResponder(flight)
      expect(() => cells.forEach((c) => hs.onCell(c)), what).toThrow(ChannelError)
    }
  })

  it('writes 0.0.0.0 for an address it cannot put in NETINFO', () => {
    expect(netinfoAddress(undefined).value).toEqual(new Uint8Array(4))
    expect(netinfoAddress('::1').value).toEqual(new Uint8Array(4))
    expect(netinfoAddress('::ffff:10.1.2.3').value).toEqual(Uint8Array.of(10, 1, 2, 3))
  })
})

describe('ResponderChannel with bad input', () => {
  const rng = new RngStream(3, 'link-responder-test')
  const keys = generateRelayKeys((n) => rng.bytes(n), 'solo', 0)

  async function relayAndClient() {
    const net = new SimNetwork({ seed: 5, policy: 'queue' })
    const client = net.addHost('client', '10.0.0.1')
    const relay = net.addHost('relay', '10.0.1.1')
    net.link('client', 'relay', { ab: quietLink, ba: quietLink })
    const router = await OnionRouter.start(relay.world, { keys, orPort: 9001, address: '10.0.1.1', handshakeTimeoutMs: 5_000 })
    return { net, client: client.world, router }
  }

  /** Sends `bytes` after TLS and reports whether and when the relay closed the connection. */
  async function send(bytes: Uint8Array[], until?: (got: Buffer) => boolean) {
    const t = await relayAndClient()
    const p = (async () => {
      const conn = await t.client.net.connect('10.0.1.1', 9001)
      const tls = await connectTls(t.client, conn, { rejectUnauthorized: false })
      const got: Buffer[] = []
      tls.on('error', () => {})
      await new Promise<void>((r) => {
        tls.on('data', (d: Buffer) => {
          got.push(d)
          if (until?.(Buffer.concat(got))) r()
        })
        tls.once('end', () => r())
        tls.once('close', () => r())
        for (const b of bytes) tls.write(b)
      })
      tls.destroy()
      return { at: t.client.now(), got: Buffer.concat(got) }
    })()
    await t.net.run({ until: p, maxVirtualMs: 60_000 })
    return { ...(await p), stats: t.router.stats }
  }

  it('a RELAY cell instead of VERSIONS: closed at once, nothing answered', async () => {
    const r = await send([encodeCell({ circId: 1, command: ChanCmd.RELAY, body: new Uint8Array(509).fill(0xee) }, 2)])
    expect(r.got.length).toBe(0)
    expect(r.at).toBeLessThan(1_000)
    expect(r.stats.linkHandshakesFailed).toBe(1)
    expect(r.stats.channelsAccepted).toBe(0)
  })

  it('a cell stream that breaks off before NETINFO: closed at the handshake deadline', async () => {
    const r = await send([encodeCell(cell({ cmd: 'VERSIONS', versions: [4, 5] }), 2)])
    // We got the relay's flight (VERSIONS … NETINFO), then the close at the 5 s deadline.
    const reader = new CellReader()
    const cmds: number[] = []
    for (const ev of reader.receive(new Uint8Array(r.got))) if (ev.kind === 'cell') cmds.push(ev.cell.command)
    for (const ev of reader.setLinkVersion(5)) if (ev.kind === 'cell') cmds.push(ev.cell.command)
    expect(cmds).toEqual([ChanCmd.VERSIONS, ChanCmd.CERTS, ChanCmd.AUTH_CHALLENGE, ChanCmd.NETINFO])
    expect(r.at).toBeGreaterThanOrEqual(5_000)
    expect(r.stats.linkHandshakesFailed).toBe(1)
  })

  it('an unparseable CREATE2 after the handshake is refused with DESTROY on its circuit id; the channel stays', async () => {
    const versions = encodeCell(cell({ cmd: 'VERSIONS', versions: [5] }), 2)
    const netinfo = encodeCell(cell({ cmd: 'NETINFO', timestamp: 0, otherAddress: netinfoAddress('10.0.1.1'), myAddresses: [] }), 4)
    // CREATE2 whose handshake length overruns the cell: answered by DESTROY on that circuit id.
    const badCreate = new Uint8Array(514)
    new DataView(badCreate.buffer).setUint32(0, 0x80000009)
    badCreate[4] = ChanCmd.CREATE2
    badCreate.set([0, 2, 0xff, 0xff], 5)
    const cellsOf = (got: Buffer) => {
      const reader = new CellReader()
      const cells: ChannelCell[] = []
      for (const ev of reader.receive(new Uint8Array(got))) if (ev.kind === 'cell') cells.push(ev.cell)
      for (const ev of reader.setLinkVersion(5)) if (ev.kind === 'cell') cells.push(ev.cell)
      return cells
    }
    const r = await send([versions, netinfo, badCreate], (got) => cellsOf(got).some((c) => c.command === ChanCmd.DESTROY))
    const destroy = cellsOf(r.got).find((c) => c.command === ChanCmd.DESTROY)
    expect(destroy?.circId).toBe(0x80000009)
    expect(r.stats.createsRefused).toBe(1)
    expect(r.stats.channelsAccepted).toBe(1)
    expect(r.stats.channelsIn).toBe(1)
  })
})

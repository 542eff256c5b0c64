// The middlebox hook itself (src/net/sim/middlebox.ts): what a box sees, and what each verdict does
// to the two ends of a connection.

import { describe, expect, it } from 'vitest'
import type { Conn } from '../../world.js'
import { DROP, PASS, type Middlebox, type Segment, type Verdict } from '../middlebox.js'
import { SimNetwork } from '../network.js'
import { record } from '../test-helpers.js'
import { quiet } from './testkit.js'

async function pair(box: Middlebox, ab: Partial<typeof quiet> = {}) {
  const net = new SimNetwork({ seed: 1, policy: 'queue' })
  const a = net.addHost('a', '10.0.0.1')
  const b = net.addHost('b', '10.0.0.2')
  net.link('a', 'b', { ab: { ...quiet, ...ab }, ba: quiet })
  net.addMiddlebox(box, 'a', 'b')
  const accepted: Conn[] = []
  await b.world.net.listen(80, (c) => accepted.push(c))
  const p = a.world.net.connect('10.0.0.2', 80)
  await net.run({ until: p })
  const client = await p
  return { net, client, server: accepted[0]!, a }
}

function box(decide: (s: Segment) => Verdict = () => PASS): Middlebox & { seen: Segment[] } {
  const seen: Segment[] = []
  return {
    name: 'test-box',
    seen,
    segment(s) {
      seen.push({ ...s, bytes: Uint8Array.from(s.bytes) })
      return decide(s)
    },
  }
}

describe('middlebox hook', () => {
  it('sees every wire segment in order with its direction and flow, after the sender segmentation', async () => {
    const b = box()
    const { net, client, server } = await pair(b, { mss: 100 })
    const rs = record(server, () => net.sched.now())
    const rc = record(client, () => net.sched.now())
    client.write(Buffer.alloc(250, 1))
    server.write(Buffer.from('pong'))
    client.end()
    await net.run({ until: () => rs.ended })
    const up = b.seen.filter((s) => s.fromClient)
    expect(up.map((s) => [s.bytes.length, s.flag])).toEqual([
      [100, undefined],
      [100, undefined],
      [50, undefined],
      [0, 'fin'],
    ])
    expect(b.seen.filter((s) => !s.fromClient).map((s) => Buffer.from(s.bytes).toString())).toEqual(['pong'])
    expect(new Set(b.seen.map((s) => s.flow.id)).size).toBe(1)
    expect(b.seen[0]!.flow).toMatchObject({ clientAddress: '10.0.0.1', serverAddress: '10.0.0.2', serverPort: 80 })
    await net.run({ until: () => rc.chunks.length > 0 })
    expect(Buffer.concat(rs.chunks.map((c) => c.data)).length).toBe(250)
  })

  it('drop loses the segment and freezes that direction: nothing after it arrives, FIN included; the other direction still works', async () => {
    let n = 0
    const { net, client, server } = await pair(box((s) => (s.fromClient && s.bytes.length > 0 && ++n === 2 ? DROP : PASS)))
    const rs = record(server, () => net.sched.now())
    const rc = record(client, () => net.sched.now())
    client.write(Buffer.from('one'))
    await net.run({ until: () => rs.chunks.length === 1 })
    client.write(Buffer.from('two'))
    client.write(Buffer.from('three'))
    client.end()
    server.write(Buffer.from('back'))
    await net.run({ until: () => rc.chunks.length === 1 })
    await net.run()
    expect(rs.chunks.map((c) => c.data.toString())).toEqual(['one'])
    expect(rs.ended).toBe(false)
    expect(rc.chunks.map((c) => c.data.toString())).toEqual(['back'])
  })

  it('lost bytes stay unacknowledged: the writer blocks once they fill the window', async () => {
    const { net, client } = await pair(box((s) => (s.fromClient ? DROP : PASS)), { windowBytes: 1000 })
    expect(client.write(Buffer.alloc(600))).toBe(true)
    await net.run()
    let drained = false
    client.on('drain', () => (drained = true))
    client.write(Buffer.alloc(600))
    client.write(Buffer.alloc(600))
    await net.run()
    expect(client.writableLength).toBeGreaterThan(0)
    expect(drained).toBe(false)
  })

  it('rst to both: the trigger is lost and both ends get ECONNRESET', async () => {
    const { net, client, server } = await pair(box((s) => (s.fromClient && s.bytes.length > 0 ? { kind: 'rst', to: 'both' } : PASS)))
    const rs = record(server, () => net.sched.now())
    const rc = record(client, () => net.sched.now())
    client.write(Buffer.from('trigger'))
    await net.run({ until: () => rs.closed && rc.closed })
    expect(rs.chunks).toEqual([])
    expect(rs.errors.map((e) => (e as Error & { code?: string }).code)).toEqual(['ECONNRESET'])
    expect(rc.errors.map((e) => (e as Error & { code?: string }).code)).toEqual(['ECONNRESET'])
  })

  it('rst to the client only leaves the server waiting', async () => {
    const { net, client, server } = await pair(box((s) => (s.fromClient && s.bytes.length > 0 ? { kind: 'rst', to: 'client' } : PASS)))
    const rs = record(server, () => net.sched.now())
    const rc = record(client, () => net.sched.now())
    client.write(Buffer.from('trigger'))
    await net.run({ until: () => rc.closed })
    await net.run()
    expect(rc.errors.map((e) => (e as Error & { code?: string }).code)).toEqual(['ECONNRESET'])
    expect(rs.errors).toEqual([])
    expect(rs.closed).toBe(false)
  })

  it('truncate delivers the first bytes of the segment, then freezes', async () => {
    const { net, client, server } = await pair(box((s) => (s.fromClient && s.bytes.length > 0 ? { kind: 'truncate', keep: 4 } : PASS)))
    const rs = record(server, () => net.sched.now())
    client.write(Buffer.from('abcdefgh'))
    client.write(Buffer.from('ijk'))
    await net.run()
    expect(Buffer.concat(rs.chunks.map((c) => c.data)).toString()).toBe('abcd')
  })

  it('SYN verdicts: drop times the connect out, rst fails it with ECONNRESET', async () => {
    for (const [v, code] of [
      ['drop', 'ETIMEDOUT'],
      ['rst', 'ECONNRESET'],
    ] as const) {
      const net = new SimNetwork({ seed: 1, policy: 'queue', timeoutMs: 500 })
      const a = net.addHost('a', '10.0.0.1')
      net.addHost('b', '10.0.0.2')
      net.link('a', 'b', { ab: quiet, ba: quiet })
      net.addMiddlebox({ name: 'syn-box', syn: () => v, segment: () => PASS }, 'a', 'b')
      await net.host('b')!.world.net.listen(80, () => {})
      const p = a.world.net.connect('10.0.0.2', 80).then(
        () => 'connected',
        (e: Error & { code?: string }) => e.code,
      )
      await net.run({ until: p })
      expect(await p).toBe(code)
    }
  })
})

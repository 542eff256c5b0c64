import { describe, expect, it } from 'vitest'
import { NetError } from '../world.js'
import { SimNetwork } from './network.js'
import { record, twoHosts } from './test-helpers.js'

describe('SimConn', () => {
  it('connects after one RTT with the right addresses and ports', async () => {
    const { net, a, accepted } = await twoHosts({ latencyMs: 7 }, { latencyMs: 13 })
    const p = a.world.net.connect('10.0.0.2', 80)
    await net.run({ until: p })
    const c = await p
    expect(net.sched.now()).toBe(20)
    expect([c.localAddress, c.localPort, c.remoteAddress, c.remotePort]).toEqual(['10.0.0.1', 49152, '10.0.0.2', 80])
    const s = accepted[0]!
    expect([s.localAddress, s.localPort, s.remoteAddress, s.remotePort]).toEqual(['10.0.0.2', 80, '10.0.0.1', 49152])
  })

  it('refuses a connect to a port nobody listens on after one RTT (ECONNREFUSED)', async () => {
    const { net, a } = await twoHosts({ latencyMs: 4 }, { latencyMs: 6 })
    const p = a.world.net.connect('b', 81).catch((e: unknown) => e)
    await net.run({ until: p })
    const err = await p
    expect(err).toBeInstanceOf(NetError)
    expect((err as NetError).code).toBe('ECONNREFUSED')
    expect(net.sched.now()).toBe(10)
  })

  it('fails a connect to an unknown host with ENOTFOUND', async () => {
    const { net, a } = await twoHosts()
    const p = a.world.net.connect('nowhere', 80).catch((e: unknown) => e)
    await net.run({ until: p })
    expect(((await p) as NetError).code).toBe('ENOTFOUND')
  })

  it('half-close: end() delivers EOF and the other direction keeps working', async () => {
    const { net, a, accepted } = await twoHosts()
    const p = a.world.net.connect('b', 80)
    await net.run({ until: p })
    const c = await p
    const s = accepted[0]!
    const cr = record(c, () => net.sched.now())
    const sr = record(s, () => net.sched.now())
    c.end(Buffer.from('request'))
    await net.run({ until: () => sr.ended })
    expect(Buffer.concat(sr.chunks.map((x) => x.data)).toString()).toBe('request')
    expect(cr.ended).toBe(false)
    s.write(Buffer.from('reply after the client half-closed'))
    await net.run({ until: () => cr.chunks.length > 0 })
    expect(cr.chunks[0]!.data.toString()).toBe('reply after the client half-closed')
    s.end()
    await net.run({ until: () => cr.closed && sr.closed })
    expect(cr.ended && sr.ended).toBe(true)
    expect(cr.errors.concat(sr.errors)).toEqual([])
  })

  it('resetAndDestroy() sends RST: the peer errors with ECONNRESET and closes', async () => {
    const { net, a, accepted } = await twoHosts({ latencyMs: 5 }, { latencyMs: 5 })
    const p = a.world.net.connect('b', 80)
    await net.run({ until: p })
    const c = (await p) as import('./conn.js').SimConn
    const sr = record(accepted[0]!, () => net.sched.now())
    c.resetAndDestroy()
    await net.run({ until: () => sr.closed })
    expect(sr.errors.map((e) => (e as NetError).code)).toEqual(['ECONNRESET'])
  })

  it('a network reset gives both ends ECONNRESET', async () => {
    const { net, a, accepted } = await twoHosts()
    const p = a.world.net.connect('b', 80)
    await net.run({ until: p })
    const cr = record(await p, () => net.sched.now())
    const sr = record(accepted[0]!, () => net.sched.now())
    net.reset('a', 'b')
    await net.run({ until: () => cr.closed && sr.closed })
    expect(cr.errors.map((e) => (e as NetError).code)).toEqual(['ECONNRESET'])
    expect(sr.errors.map((e) => (e as NetError).code)).toEqual(['ECONNRESET'])
  })

  it('data sent to a closed socket is answered with RST', async () => {
    const { net, a, accepted } = await twoHosts()
    const p = a.world.net.connect('b', 80)
    await net.run({ until: p })
    const c = await p
    const cr = record(c, () => net.sched.now())
    accepted[0]!.destroy() // closes: FIN to the client
    await net.run({ until: () => cr.ended })
    c.write(Buffer.from('too late'))
    await net.run({ until: () => cr.closed })
    expect(cr.errors.map((e) => (e as NetError).code)).toEqual(['ECONNRESET'])
  })

  it('back-pressure: write() returns false over the window and drains only as the peer reads', async () => {
    const { net, a, accepted } = await twoHosts({ windowBytes: 4096 })
    const p = a.world.net.connect('b', 80)
    await net.run({ until: p })
    const c = await p
    const s = accepted[0]!
    s.pause()
    let drained = false
    c.on('drain', () => (drained = true))
    const results: boolean[] = []
    for (let i = 0; i < 10; i++) results.push(c.write(Buffer.alloc(4096, i)))
    expect(results.includes(false)).toBe(true)
    await net.run() // until nothing is left to do: the window stays shut
    expect(drained).toBe(false)
    const got: Buffer[] = []
    s.on('data', (d: Buffer) => got.push(d))
    s.resume()
    await net.run({ until: () => drained && Buffer.concat(got).length === 40960 })
    const all = Buffer.concat(got)
    for (let i = 0; i < 10; i++) expect(all.subarray(i * 4096, (i + 1) * 4096).every((x) => x === i)).toBe(true)
  })

  it('partition: connects time out; held data arrives after heal', async () => {
    const { net, a, accepted } = await twoHosts()
    const p = a.world.net.connect('b', 80)
    await net.run({ until: p })
    const c = await p
    const sr = record(accepted[0]!, () => net.sched.now())
    net.partition('a', 'b', 'hold')
    c.write(Buffer.from('held across the partition'))
    const late = a.world.net.connect('b', 80).catch((e: unknown) => e)
    await net.run({ until: late })
    expect(((await late) as NetError).code).toBe('ETIMEDOUT')
    expect(net.sched.now()).toBe(20 + net.timeoutMs)
    expect(sr.chunks).toEqual([])
    net.heal('a', 'b')
    await net.run({ until: () => sr.chunks.length > 0 })
    expect(sr.chunks[0]!.data.toString()).toBe('held across the partition')
    expect(sr.chunks[0]!.t).toBe(20 + net.timeoutMs)
  })

  it('partition in drop mode loses data in flight and times the connection out', async () => {
    const { net, a, accepted } = await twoHosts()
    const p = a.world.net.connect('b', 80)
    await net.run({ until: p })
    const cr = record(await p, () => net.sched.now())
    const sr = record(accepted[0]!, () => net.sched.now())
    ;(await p).write(Buffer.from('lost'))
    net.partition('a', 'b', 'drop')
    await net.run({ until: () => cr.closed && sr.closed })
    expect(sr.chunks).toEqual([])
    expect(cr.errors.map((e) => (e as NetError).code)).toEqual(['ETIMEDOUT'])
    expect(sr.errors.map((e) => (e as NetError).code)).toEqual(['ETIMEDOUT'])
  })

  it('listen on a taken port fails with EADDRINUSE', async () => {
    const net = new SimNetwork(1)
    const h = net.addHost('h')
    await h.world.net.listen(80, () => {})
    await expect(h.world.net.listen(80, () => {})).rejects.toMatchObject({ code: 'EADDRINUSE' })
  })
})

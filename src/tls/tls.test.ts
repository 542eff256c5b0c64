// connectTls/acceptTls over simulated connections: node:tls must survive a link that cuts its
// records into tiny pieces and glues others together, and both ends' secrets must reach the
// network's keylog sink.

import { describe, expect, it } from 'vitest'
import { labTls } from '../../lab/fixtures/index.js'
import { SimNetwork } from '../net/sim/network.js'
import type { Conn } from '../net/world.js'
import { acceptTls } from './accept.js'
import { connectTls } from './connect.js'

async function pair(link: { mss: number; splitP: number; coalesceP: number }) {
  const net = new SimNetwork({ seed: 11, policy: 'stack' })
  const c = net.addHost('c')
  const s = net.addHost('s', '10.0.0.2')
  const dir = { latencyMs: 3, jitterMs: 2, bandwidth: 0, windowBytes: 65536, ...link }
  net.link('c', 's', { ab: dir, ba: dir })
  return { net, c, s }
}

describe('TLS over sim conns', () => {
  it('handshakes and moves data over a link splitting into <=7-byte pieces and coalescing', async () => {
    const fx = labTls()
    const { net, c, s } = await pair({ mss: 7, splitP: 0.5, coalesceP: 0.3 })
    const payload = Buffer.alloc(50_000, 'tls over a shredding link ')
    let serverGot = 0
    await s.world.net.listen(443, (conn: Conn) => {
      void acceptTls(s.world, conn, { key: fx.serverKey, cert: fx.serverCert }).then((t) => {
        t.on('data', (d: Buffer) => (serverGot += d.length))
        t.on('end', () => t.end())
      })
    })
    const done = (async () => {
      const conn = await c.world.net.connect('s', 443)
      const t = await connectTls(c.world, conn, { servername: fx.serverName, ca: fx.caCert })
      const protocol = t.getProtocol()
      t.end(payload)
      await new Promise((r) => t.once('close', r))
      return protocol
    })()
    await net.run({ until: done, maxVirtualMs: 600_000 })
    expect(await done).toBe('TLSv1.3')
    expect(serverGot).toBe(payload.length)
    const labels = net.keylog.all().map((l) => l.split(' ')[0])
    expect(labels).toEqual(expect.arrayContaining(['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'EXPORTER_SECRET']))
    // Pieces of at most 7 bytes: far more deliveries than TLS records.
    expect(net.stats.deliveries).toBeGreaterThan(1000)
  })

  it('fails both sides when the client does not trust the server', async () => {
    const fx = labTls()
    const { net, c, s } = await pair({ mss: 1460, splitP: 0, coalesceP: 0 })
    let serverResult: Promise<unknown> | undefined
    await s.world.net.listen(443, (conn: Conn) => {
      serverResult = acceptTls(s.world, conn, { key: fx.serverKey, cert: fx.serverCert }).catch((e: unknown) => e)
    })
    const client = (async () => {
      const conn = await c.world.net.connect('s', 443)
      return connectTls(c.world, conn, { servername: fx.serverName }).catch((e: unknown) => e)
    })()
    await net.run({ until: client })
    expect(String(await client)).toMatch(/certificate/i)
    await net.run({ until: () => serverResult !== undefined })
    const settled = serverResult!.then((e) => e)
    await net.run({ until: settled })
    const err = (await settled) as { code?: string }
    expect(err).toBeInstanceOf(Error)
    expect(err.code).toBe('ECONNRESET')
    // Well before the 30 s handshake deadline: the client's close was noticed.
    expect(net.sched.now()).toBeLessThan(1000)
  })
})

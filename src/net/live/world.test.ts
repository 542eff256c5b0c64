import { describe, expect, it } from 'vitest'
import { labTls } from '../../../lab/fixtures/index.js'
import { acceptTls } from '../../tls/accept.js'
import { connectTls } from '../../tls/connect.js'
import { KeylogSink } from '../keylog.js'
import { NetError, type Conn } from '../world.js'
import { liveWorld } from './world.js'

describe('liveWorld', () => {
  it('connects over loopback, echoes, and half-closes', async () => {
    const events: string[] = []
    const w = liveWorld({ trace: (e) => events.push(e) })
    const l = await w.net.listen(0, (c: Conn) => {
      c.on('data', (d: Buffer) => c.write(d))
      c.on('end', () => c.end())
    })
    const c = await w.net.connect('127.0.0.1', l.port)
    expect(c.remotePort).toBe(l.port)
    const got: Buffer[] = []
    const ended = new Promise<void>((r) => c.on('end', r))
    c.on('data', (d: Buffer) => got.push(d))
    c.end(Buffer.from('ping over a real socket'))
    await ended
    expect(Buffer.concat(got).toString()).toBe('ping over a real socket')
    await l.close()
    expect(events).toEqual(expect.arrayContaining(['listen', 'accept', 'connect']))
  })

  it('rejects a refused connect with NetError ECONNREFUSED', async () => {
    const w = liveWorld()
    const l = await w.net.listen(0, () => {})
    const port = l.port
    await l.close()
    const err = await w.net.connect('127.0.0.1', port).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NetError)
    expect((err as NetError).code).toBe('ECONNREFUSED')
  })

  it('gives random bytes of any length and real timers that can be cancelled', async () => {
    const w = liveWorld()
    const r = w.random(200_000) // more than getRandomValues' 65536-byte limit per call
    expect(r.length).toBe(200_000)
    expect(r.subarray(150_000).some((b) => b !== 0)).toBe(true)
    let cancelledFired = false
    w.setTimer(5, () => (cancelledFired = true)).cancel()
    const t0 = w.now()
    await new Promise<void>((res) => w.setTimer(20, res))
    expect(w.now() - t0).toBeGreaterThanOrEqual(15)
    expect(cancelledFired).toBe(false)
  })

  it('runs connectTls/acceptTls over real sockets and collects both sides\' keylog lines', async () => {
    const fx = labTls()
    const keylog = new KeylogSink()
    const w = liveWorld({ keylog })
    const served = new Promise<string>((resolve, reject) => {
      void w.net
        .listen(0, (c: Conn) => {
          acceptTls(w, c, { key: fx.serverKey, cert: fx.serverCert, minVersion: 'TLSv1.3' })
            .then((s) => s.once('data', (d: Buffer) => (resolve(d.toString()), s.end('pong'))))
            .catch(reject)
        })
        .then((l) => (port = l.port, listener = l))
    })
    let port = 0
    let listener: { close(): Promise<void> } | undefined
    while (port === 0) await new Promise((r) => setImmediate(r))
    const conn = await w.net.connect('127.0.0.1', port)
    const s = await connectTls(w, conn, { servername: fx.serverName, ca: fx.caCert })
    expect(s.getProtocol()).toBe('TLSv1.3')
    expect(s.authorized).toBe(true)
    const reply = new Promise<string>((r) => s.once('data', (d: Buffer) => r(d.toString())))
    s.write('ping')
    expect(await served).toBe('ping')
    expect(await reply).toBe('pong')
    s.destroy()
    await listener?.close()
    const labels = keylog.all().map((l) => l.split(' ')[0])
    expect(labels).toEqual(expect.arrayContaining(['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0']))
    // Client and server report the same secrets; the sink keeps each line once.
    expect(new Set(keylog.all()).size).toBe(keylog.all().length)
  })

  it('rejects a TLS client that does not trust the certificate; the server gives up at its deadline', async () => {
    const fx = labTls()
    const w = liveWorld()
    let serverResult: Promise<unknown> | undefined
    const l = await w.net.listen(0, (c: Conn) => {
      serverResult = acceptTls(w, c, { key: fx.serverKey, cert: fx.serverCert, handshakeTimeoutMs: 300 }).catch((e: unknown) => e)
    })
    const conn = await w.net.connect('127.0.0.1', l.port)
    await expect(connectTls(w, conn, { servername: fx.serverName })).rejects.toThrow(/certificate/i)
    while (!serverResult) await new Promise((r) => setImmediate(r))
    const err = await serverResult
    expect(err).toBeInstanceOf(Error)
    expect(['ETIMEDOUT', 'ECONNRESET']).toContain((err as NetError).code)
    await l.close()
  })
})

import { createHash, X509Certificate } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { labTls } from '../../../lab/fixtures/index.js'
import { liveWorld } from '../../net/live/world.js'
import type { Conn, Listener } from '../../net/world.js'
import { connectTls } from '../../tls/connect.js'
import { concatBytes } from '../../wire/bytes.js'
import { authMac, CLIENT_LABEL } from './auth.js'
import { OobClient } from './client.js'
import { decodeFrame, encodeFrame, OOB_VERSION } from './frame.js'
import { FrameReader } from './frame-reader.js'
import { OobServer, type OobServerOptions } from './server.js'
import { OobError } from './stream.js'

const fx = labTls()
const pin = createHash('sha256').update(new X509Certificate(fx.serverCert).raw).digest('hex')
const key = new Uint8Array(32).fill(0x5a)
const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function echoServer(): Promise<Listener> {
  const w = liveWorld()
  const l = await w.net.listen(0, (c: Conn) => {
    c.on('error', () => {})
    c.pipe(c)
  })
  cleanups.push(() => l.close())
  return l
}

async function helper(extra: Partial<OobServerOptions> = {}): Promise<{ server: OobServer; port: number }> {
  const w = liveWorld()
  const server = new OobServer(w, {
    key,
    tlsKey: fx.serverKey,
    tlsCert: fx.serverCert,
    lookup: async (h) => (h === 'echo.lab.test' || h === 'localhost' ? ['127.0.0.1'] : []),
    ...extra,
  })
  const l = await server.listen(0)
  cleanups.push(() => server.close())
  return { server, port: l.port }
}

function client(port: number, k = key): OobClient {
  const c = new OobClient(liveWorld(), { host: '127.0.0.1', port, coverSni: 'cover.example.org', key: k, pinSha256: pin })
  cleanups.push(() => c.close())
  return c
}

function collect(s: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    s.on('data', (d: Buffer) => parts.push(d))
    s.on('end', () => resolve(Buffer.concat(parts)))
    s.on('error', reject)
  })
}

describe('OOB helper and client', () => {
  it('relays 4 MiB both ways through one stream (flow control: 256 KiB windows), half-close included', async () => {
    const echo = await echoServer()
    const { server, port } = await helper({ allowPrivate: true })
    const c = client(port)
    const s = await c.open('echo.lab.test', echo.port)
    const payload = Buffer.from(liveWorld().random(4 * 1024 * 1024))
    const got = collect(s)
    s.end(payload)
    const back = await got
    expect(back.length).toBe(payload.length)
    expect(back.equals(payload)).toBe(true)
    expect(server.stats.streamsOpened).toBe(1)
    expect(server.stats.bytes).toBe(2 * payload.length)
  })

  it('multiplexes concurrent streams on one pooled session and answers RESOLVE', async () => {
    const echo = await echoServer()
    const { server, port } = await helper({ allowPrivate: true })
    const c = client(port)
    const msgs = Array.from({ length: 20 }, (_, i) => Buffer.from(`stream ${i} `.repeat(1000)))
    const results = await Promise.all(
      msgs.map(async (m) => {
        const s = await c.open('127.0.0.1', echo.port)
        const p = collect(s)
        s.end(m)
        return p
      }),
    )
    results.forEach((r, i) => expect(r.equals(msgs[i])).toBe(true))
    expect(server.stats.sessions).toBe(1)
    expect(await c.resolve('echo.lab.test')).toEqual(['127.0.0.1'])
    await expect(c.resolve('nowhere.invalid')).rejects.toMatchObject({ reason: 'notFound' })
  })

  it('refuses private targets without allowPrivate, by literal and after resolving a name', async () => {
    const echo = await echoServer()
    const { server, port } = await helper()
    const c = client(port)
    await expect(c.open('127.0.0.1', echo.port)).rejects.toMatchObject({ reason: 'refused' })
    const err = await c.open('localhost', echo.port).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OobError)
    expect((err as OobError).reason).toBe('refused')
    expect(server.stats.streamsRefused).toBe(2)
    expect(server.stats.streamsOpened).toBe(0)
  })

  it('rejects a client with the wrong key', async () => {
    const { server, port } = await helper({ allowPrivate: true })
    const c = client(port, new Uint8Array(32).fill(1))
    await expect(c.session()).rejects.toMatchObject({ reason: 'authFailed' })
    while (server.stats.authFailures === 0) await new Promise((r) => setImmediate(r))
    expect(server.stats.sessions).toBe(0)
  })

  it('rejects an AUTH replayed from an earlier connection', async () => {
    const { server, port } = await helper({ allowPrivate: true })
    const w = liveWorld()
    const raw = async () => {
      const tls = await connectTls(w, await w.net.connect('127.0.0.1', port), { servername: 'x', rejectUnauthorized: false })
      const reader = new FrameReader()
      const frames: ReturnType<typeof decodeFrame>['frame'][] = []
      let closed = false
      tls.on('data', (d: Buffer) => reader.push(d).forEach((e) => e.kind === 'frame' && frames.push(e.frame)))
      tls.on('end', () => (closed = true))
      tls.on('error', () => {})
      const next = async () => {
        while (frames.length === 0 && !closed) await new Promise((r) => setTimeout(r, 5))
        return frames.shift()
      }
      return { tls, next, isClosed: () => closed }
    }
    const first = await raw()
    const hello = await first.next()
    if (hello?.type !== 'hello') throw new Error('no HELLO')
    const clientNonce = new Uint8Array(32).fill(7)
    const auth = encodeFrame({ type: 'auth', version: OOB_VERSION, clientNonce, mac: authMac(key, CLIENT_LABEL, hello.serverNonce, clientNonce) })
    first.tls.write(auth)
    expect((await first.next())?.type).toBe('auth-ok')
    first.tls.destroy()

    const second = await raw()
    const hello2 = await second.next()
    expect(hello2?.type).toBe('hello')
    expect(hello2?.type === 'hello' && Buffer.from(hello2.serverNonce).equals(Buffer.from(hello.serverNonce))).toBe(false)
    second.tls.write(concatBytes(auth, encodeFrame({ type: 'open', stream: 1, port: 80, window: 1000, host: 'example.com' })))
    expect(await second.next()).toBeUndefined()
    expect(second.isClosed()).toBe(true)
    expect(server.stats.authFailures).toBe(1)
  })

  it('killing the helper mid-transfer errors the open stream; a new helper serves the next stream', async () => {
    const w = liveWorld()
    let sink: Conn | undefined
    const slow = await w.net.listen(0, (c: Conn) => {
      sink = c
      c.on('error', () => {})
      c.write(Buffer.alloc(100_000, 1))
    })
    cleanups.push(() => slow.close())
    const { server, port } = await helper({ allowPrivate: true })
    const c = client(port)
    const s = await c.open('127.0.0.1', slow.port)
    const outcome = new Promise<string>((resolve) => {
      s.on('error', (e: Error) => resolve(`error: ${e.message}`))
      s.on('close', () => resolve('closed'))
    })
    await new Promise<void>((r) => s.once('data', () => r()))
    await server.close()
    expect(await outcome).toMatch(/error: .*(closed|ECONNRESET|shutdown)/)
    sink?.destroy()
    await expect(c.open('127.0.0.1', slow.port)).rejects.toBeInstanceOf(Error)
  })

  it('an OPEN on a pooled channel that died unseen is asked again, once, on a fresh channel', async () => {
    const echo = await echoServer()
    const { port } = await helper({ allowPrivate: true })
    // A TCP relay in front of the helper, standing for a NAT or middlebox that can drop the channel.
    const w = liveWorld()
    const downs: Conn[] = []
    const relay = await w.net.listen(0, (down) => {
      down.on('error', () => {})
      downs.push(down)
      void w.net.connect('127.0.0.1', port).then((up) => {
        up.on('error', () => {})
        down.pipe(up)
        up.pipe(down)
        down.on('close', () => up.destroy())
      })
    })
    cleanups.push(() => relay.close())
    const c = client(relay.port)
    const first = await c.open('echo.lab.test', echo.port)
    first.destroy()
    // Dropped; the client cannot have seen it when its next OPEN goes out (same tick).
    for (const d of downs) d.destroy()
    const again = await c.open('echo.lab.test', echo.port)
    const got = collect(again)
    again.end(Buffer.from('after the drop'))
    expect((await got).toString()).toBe('after the drop')
    expect(downs).toHaveLength(2)
  })

  it('refuses a helper whose certificate does not match the pin', async () => {
    // The helper only notices a client that vanished mid-handshake at its deadline (acceptTls, live).
    const { port } = await helper({ allowPrivate: true, authTimeoutMs: 500 })
    const c = new OobClient(liveWorld(), { host: '127.0.0.1', port, coverSni: 'cover.example.org', key, pinSha256: '00'.repeat(32) })
    cleanups.push(() => c.close())
    await expect(c.session()).rejects.toThrow(/pin/)
  })

  it('per-client limits: OPEN beyond max streams gets CLOSE limit; the byte limit ends the session', async () => {
    const w = liveWorld()
    const held: Conn[] = []
    const quiet = await w.net.listen(0, (c: Conn) => (held.push(c), c.on('error', () => {})))
    cleanups.push(() => (held.forEach((c) => c.destroy()), quiet.close()))
    const { port } = await helper({ allowPrivate: true, maxStreams: 2, maxBytesPerSession: 50_000 })
    const c = client(port)
    const a = await c.open('127.0.0.1', quiet.port)
    await c.open('127.0.0.1', quiet.port)
    await expect(c.open('127.0.0.1', quiet.port)).rejects.toMatchObject({ reason: 'limit' })
    const gone = new Promise<string>((r) => (a.on('error', (e: Error) => r(e.message)), a.on('close', () => r('closed'))))
    a.write(Buffer.alloc(100_000, 1))
    expect(await gone).toMatch(/closed|shutdown|reset|limit|ECONNRESET/)
    // The session is gone: the next open makes a new one.
    const s2 = await c.open('127.0.0.1', quiet.port)
    expect(s2.remoteAddress).toMatch(/127\.0\.0\.1/)
  })

  it('closes an idle session (World timers) and the client reconnects on next use', async () => {
    const echo = await echoServer()
    const { server, port } = await helper({ allowPrivate: true, idleMs: 500 })
    const c = client(port)
    await c.session()
    while (server.activeSessions === 0) await new Promise((r) => setTimeout(r, 10))
    const t0 = Date.now()
    while (server.activeSessions > 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50))
    expect(server.activeSessions).toBe(0)
    const s = await c.open('127.0.0.1', echo.port)
    const back = collect(s)
    s.end('again')
    expect((await back).toString()).toBe('again')
    expect(server.stats.sessions).toBe(2)
  })

  it('ends the session of a client that sends DATA beyond the credit it was given', async () => {
    const w = liveWorld()
    const held: Conn[] = []
    const quiet = await w.net.listen(0, (c: Conn) => (held.push(c), c.on('error', () => {}), c.pause()))
    cleanups.push(() => (held.forEach((c) => c.destroy()), quiet.close()))
    const { server, port } = await helper({ allowPrivate: true, window: 4096 })
    const tls = await connectTls(w, await w.net.connect('127.0.0.1', port), { servername: 'x', rejectUnauthorized: false })
    tls.on('error', () => {})
    const reader = new FrameReader()
    const frames: string[] = []
    let ended = false
    let serverNonce: Uint8Array | undefined
    tls.on('data', (d: Buffer) => reader.push(d).forEach((e) => e.kind === 'frame' && (frames.push(e.frame.type), e.frame.type === 'hello' && (serverNonce = e.frame.serverNonce))))
    tls.on('end', () => (ended = true))
    tls.on('close', () => (ended = true))
    while (!serverNonce) await new Promise((r) => setTimeout(r, 5))
    const cn = new Uint8Array(32).fill(9)
    tls.write(encodeFrame({ type: 'auth', version: OOB_VERSION, clientNonce: cn, mac: authMac(key, CLIENT_LABEL, serverNonce, cn) }))
    tls.write(encodeFrame({ type: 'open', stream: 1, port: quiet.port, window: 65536, host: '127.0.0.1' }))
    while (!frames.includes('opened')) await new Promise((r) => setTimeout(r, 5))
    // The helper granted 4096 bytes; send 3 × 2000.
    const d = encodeFrame({ type: 'data', stream: 1, data: new Uint8Array(2000) })
    tls.write(concatBytes(d, d, d))
    while (!ended) await new Promise((r) => setTimeout(r, 5))
    expect(ended).toBe(true)
    while (server.activeSessions > 0) await new Promise((r) => setTimeout(r, 5))
  })

  it('ends the session of a client that floods PINGs and never reads the PONGs (bounded memory)', async () => {
    const w = liveWorld()
    const { server, port } = await helper()
    const tls = await connectTls(w, await w.net.connect('127.0.0.1', port), { servername: 'x', rejectUnauthorized: false })
    tls.on('error', () => {})
    let closed = false
    tls.on('close', () => (closed = true))
    const reader = new FrameReader()
    const nonce = await new Promise<Uint8Array>((resolve) =>
      tls.once('data', (d: Buffer) => reader.push(d).forEach((e) => e.kind === 'frame' && e.frame.type === 'hello' && resolve(e.frame.serverNonce))),
    )
    const cn = new Uint8Array(32).fill(4)
    tls.write(encodeFrame({ type: 'auth', version: OOB_VERSION, clientNonce: cn, mac: authMac(key, CLIENT_LABEL, nonce, cn) }))
    tls.pause() // never read again
    const ping = encodeFrame({ type: 'ping', ack: false, opaque: new Uint8Array(8) })
    const burst = concatBytes(...Array.from({ length: 4096 }, () => ping))
    for (let i = 0; i < 400 && !closed; i++) {
      if (!tls.write(burst)) await new Promise((r) => setTimeout(r, 5))
    }
    for (let i = 0; i < 200 && server.activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 10))
    expect(server.activeSessions).toBe(0)
    tls.destroy()
  }, 20_000)

  it('accepts a helper certificate that chains to the given CA whatever the cover SNI', async () => {
    const echo = await echoServer()
    const { port } = await helper({ allowPrivate: true, authTimeoutMs: 500 })
    const c = new OobClient(liveWorld(), { host: '127.0.0.1', port, coverSni: 'cover.example.org', key, ca: fx.caCert })
    cleanups.push(() => c.close())
    const s = await c.open('127.0.0.1', echo.port)
    const back = collect(s)
    s.end('via CA')
    expect((await back).toString()).toBe('via CA')
    const stranger = new OobClient(liveWorld(), { host: '127.0.0.1', port, coverSni: 'cover.example.org', key, ca: fx.serverCert })
    cleanups.push(() => stranger.close())
    await expect(stranger.session()).rejects.toThrow(/certificate|issuer/i)
  })

  it('caches RESOLVE answers for resolveCacheMs on the World clock', async () => {
    let lookups = 0
    const { port } = await helper({ lookup: async () => (lookups++, ['192.0.2.7']) })
    const c = new OobClient(liveWorld(), { host: '127.0.0.1', port, coverSni: 'c.example', key, pinSha256: pin, resolveCacheMs: 150 })
    cleanups.push(() => c.close())
    expect(await c.resolve('a.example')).toEqual(['192.0.2.7'])
    expect(await c.resolve('A.example')).toEqual(['192.0.2.7'])
    expect(lookups).toBe(1)
    await new Promise((r) => setTimeout(r, 200))
    await c.resolve('a.example')
    expect(lookups).toBe(2)
  })
})

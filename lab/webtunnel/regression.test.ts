// Regression for WebTunnel's original interop bug (webtor-rs WEBTUNNEL_DEBUG_REPORT.md, summarised
// in notes/webtunnel.md §4): a client that wraps its bytes in WebSocket frames after the 101 is
// refused by the bridge's Tor link TLS — our server passes the bytes on untouched and does not
// "fix" them — while our client never frames. And a client that pipelines its ClientHello with the
// upgrade request loses it, as with the official Go server (the head's read buffer is discarded).
// The "bridge" is a node:tls server with a recording tap in front, playing tor's ORPort.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { Duplex } from 'node:stream'
import { join } from 'node:path'
import * as tls from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveWorld } from '../../src/net/live/world.js'
import type { Listener } from '../../src/net/world.js'
import { clientConfigFromArgs } from '../../src/webtunnel/client-config.js'
import { dialWebTunnel } from '../../src/webtunnel/client.js'
import { listenWebTunnel } from '../../src/webtunnel/server.js'
import { encodeUpgradeRequest, UPGRADE_RESPONSE } from '../../src/webtunnel/upgrade.js'
import { makeLabCa } from '../peers/pki.js'
import { captureClientHello, framingDuplex } from './misbehaving-clients.js'

const SECRET = '/s'
let dir: string
let server: Listener
let bridge: net.Server
/** Per bridge connection: every byte it received, and how its TLS handshake ended. */
const bridgeConns: { received: Buffer[]; tls: 'pending' | 'secure' | 'refused' }[] = []
const traces: { event: string; detail?: Record<string, unknown> }[] = []
const world = liveWorld({ trace: (event, detail) => traces.push({ event, detail }) })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sultry-wt-reg-'))
  const pki = makeLabCa(dir, { names: ['bridge.lab.test'], ips: ['127.0.0.1'] })
  const secureContext = tls.createSecureContext({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) })
  bridge = net.createServer((sock) => {
    const rec = { received: [] as Buffer[], tls: 'pending' as 'pending' | 'secure' | 'refused' }
    bridgeConns.push(rec)
    // A tap between the socket and the TLS server: node:tls would otherwise take the socket's handle
    // and its bytes would never be seen as 'data'.
    const tap = new Duplex({
      write(chunk: Buffer, _enc, cb) {
        sock.write(chunk, cb)
      },
      read() {},
      final(cb) {
        sock.end()
        cb()
      },
    })
    sock.on('data', (b) => {
      rec.received.push(Buffer.from(b))
      tap.push(b)
    })
    sock.on('end', () => tap.push(null))
    sock.on('close', () => tap.destroy())
    sock.on('error', () => sock.destroy())
    const secure = new tls.TLSSocket(tap, { isServer: true, secureContext })
    secure.on('secure', () => {
      rec.tls = 'secure'
      secure.pipe(secure) // an echo once the link is up
    })
    secure.on('error', () => {
      rec.tls = 'refused'
      secure.destroy()
      sock.destroy()
    })
  })
  await new Promise<void>((r) => bridge.listen(0, '127.0.0.1', () => r()))
  server = await listenWebTunnel(world, 0, { bridge: { host: '127.0.0.1', port: (bridge.address() as net.AddressInfo).port }, path: SECRET })
})

afterAll(async () => {
  await server?.close()
  bridge?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const url = () => [['url', `http://127.0.0.1:${server.port}${SECRET}`]] as [string, string][]

async function waitFor<T>(f: () => T | undefined, ms = 5000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const v = f()
    if (v !== undefined) return v
    if (Date.now() > until) throw new Error('condition not met in time')
    await sleep(20)
  }
}

describe('WebTunnel regressions', () => {
  it('our client never frames: the bridge receives a bare TLS ClientHello and the link comes up', async () => {
    const n = bridgeConns.length
    const tunnel = await dialWebTunnel(world, clientConfigFromArgs(url()))
    const link = tls.connect({ socket: tunnel, rejectUnauthorized: false })
    await new Promise<void>((r, j) => link.once('secureConnect', r).once('error', j))
    link.write('ping')
    expect((await new Promise<Buffer>((r) => link.once('data', r))).toString()).toBe('ping')
    link.destroy()
    const rec = bridgeConns[n]
    const first = Buffer.concat(rec.received)
    // TLS record header: handshake(22), legacy version 3.x — not a WebSocket frame header (0x82).
    expect([first[0], first[1]]).toEqual([0x16, 0x03])
    expect(first[5]).toBe(0x01) // ClientHello
    expect(rec.tls).toBe('secure')
  }, 10_000)

  it('a client that frames its bytes after the 101 never gets a link from the bridge, and the server does not unframe', async () => {
    const n = bridgeConns.length
    const raw = net.connect(server.port, '127.0.0.1')
    await new Promise((r) => raw.once('connect', r))
    raw.write(encodeUpgradeRequest({ host: '127.0.0.1', path: SECRET }))
    const head = await new Promise<Buffer>((r) => raw.once('data', r))
    expect(head).toEqual(Buffer.from(UPGRADE_RESPONSE))
    const mask = Uint8Array.of(0x12, 0x34, 0x56, 0x78)
    const fromBridge: Buffer[] = []
    raw.on('data', (b) => fromBridge.push(b))
    const link = tls.connect({ socket: framingDuplex(raw, mask), rejectUnauthorized: false })
    let secure = false
    link.on('secureConnect', () => (secure = true))
    link.on('error', () => {})
    const rec = await waitFor(() => (bridgeConns[n] && bridgeConns[n].received.length > 0 ? bridgeConns[n] : undefined))
    // Long enough for a loopback handshake many times over.
    await sleep(1500)
    const got = Buffer.concat(rec.received)
    // The bridge got the frame exactly as sent: FIN+binary, MASK with a 16-bit length, the key,
    // then the masked ClientHello record — the server passed it on untouched.
    expect([got[0], got[1]]).toEqual([0x82, 0x80 | 126])
    expect(got.readUInt16BE(2)).toBe(got.length - 8)
    expect([...got.subarray(4, 8)]).toEqual([...mask])
    const inner = Buffer.from(got.subarray(8).map((b, i) => b ^ mask[i % 4]))
    expect([inner[0], inner[1], inner[5]]).toEqual([0x16, 0x03, 0x01])
    // OpenSSL on the bridge reads 0x82 as an SSLv2-style record header and never answers: no
    // ServerHello, no link — the same stall tor's link TLS gives (see tor-pt.test.ts).
    expect(rec.tls).not.toBe('secure')
    expect(secure).toBe(false)
    expect(Buffer.concat(fromBridge).length).toBe(0)
    link.destroy()
    raw.destroy()
  }, 10_000)

  it('a ClientHello pipelined with the upgrade request is dropped, as the official server drops it', async () => {
    const n = bridgeConns.length
    const hello = await captureClientHello('bridge.lab.test')
    const raw = net.connect(server.port, '127.0.0.1')
    await new Promise((r) => raw.once('connect', r))
    raw.write(Buffer.concat([encodeUpgradeRequest({ host: '127.0.0.1', path: SECRET }), hello]))
    const got: Buffer[] = []
    raw.on('data', (b) => got.push(b))
    // The 101 still comes; the bridge connection opens, but the ClientHello never reaches it, so the
    // link never starts (the client would wait for a ServerHello that cannot come).
    await waitFor(() => (bridgeConns.length > n ? true : undefined))
    await sleep(1000)
    expect(Buffer.concat(got)).toEqual(Buffer.from(UPGRADE_RESPONSE))
    expect(Buffer.concat(bridgeConns[n].received).length).toBe(0)
    expect(bridgeConns[n].tls).toBe('pending')
    expect(traces.filter((t) => t.event === 'webtunnel-pipelined-bytes-dropped').at(-1)?.detail).toEqual({ bytes: hello.length })
    raw.destroy()
  }, 10_000)
})

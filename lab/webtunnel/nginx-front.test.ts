// WebTunnel end to end on loopback, in the deployment shape of the official README: Debian nginx
// (lab CA certificate, TLS 1.2/1.3) fronts `webtunnel-server` on a secret path; the server feeds a
// plain TCP echo standing in for the bridge's ORPort. Our client dials nginx like a bridge user.

import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import * as https from 'node:https'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveWorld } from '../../src/net/live/world.js'
import type { Listener } from '../../src/net/world.js'
import { certChainPinFromPem } from '../../src/webtunnel/cert-pin.js'
import { clientConfigFromArgs } from '../../src/webtunnel/client-config.js'
import { dialWebTunnel, WebTunnelError } from '../../src/webtunnel/client.js'
import { listenWebTunnel } from '../../src/webtunnel/server.js'
import { makeLabCa, type LabCa } from '../peers/pki.js'
import { startNginxFront, type NginxFront } from './nginx.js'

const NAME = 'webtunnel.lab.test'
const SECRET = '/c2VjcmV0LXBhdGg'
const SITE = '<!doctype html><title>Lab bakery</title><h1>Fresh bread daily</h1>\n'

let dir: string
let pki: LabCa
let nginx: NginxFront
let server: Listener
let echo: net.Server
let echoPort: number
let echoConnections = 0
const traces: { event: string; detail?: Record<string, unknown> }[] = []
const world = liveWorld({ trace: (event, detail) => traces.push({ event, detail }) })

function readExactly(s: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    let got = 0
    const onData = (b: Buffer) => {
      parts.push(b)
      got += b.length
      if (got >= n) {
        s.off('data', onData)
        resolve(Buffer.concat(parts))
      }
    }
    s.on('data', onData)
    s.resume()
    s.once('error', reject)
    s.once('end', () => got < n && reject(new Error(`stream ended after ${got} of ${n} bytes`)))
  })
}

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: nginx.port, path, servername: NAME, ca: pki.caPem, headers: { Host: NAME, ...headers } }, (res) => {
      let body = ''
      res.setEncoding('latin1')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }))
    })
    req.once('error', reject)
    req.end()
  })
}

const args = (extra: [string, string][] = []): [string, string][] => [['url', `https://${NAME}:${nginx.port}${SECRET}`], ['addr', `127.0.0.1:${nginx.port}`], ...extra]

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sultry-webtunnel-'))
  pki = makeLabCa(dir, { names: [NAME], ips: ['127.0.0.1'] })
  echo = net.createServer({ allowHalfOpen: true }, (s) => {
    echoConnections++
    s.pipe(s)
  })
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()))
  echoPort = (echo.address() as net.AddressInfo).port
  server = await listenWebTunnel(world, 0, { bridge: { host: '127.0.0.1', port: echoPort }, path: SECRET })
  nginx = await startNginxFront({ dir: join(dir, 'nginx'), serverName: NAME, certFile: pki.certFile, keyFile: pki.keyFile, secretPath: SECRET, upstreamPort: server.port, siteHtml: SITE })
}, 30_000)

afterAll(async () => {
  await nginx?.stop()
  await server?.close()
  echo?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('WebTunnel behind nginx', () => {
  it('carries bytes both ways through nginx and the server to the bridge, client address from X-Forwarded-For', async () => {
    const before = echoConnections
    const tunnel = await dialWebTunnel(world, clientConfigFromArgs(args()), { ca: pki.caPem })
    tunnel.write('VERSIONS? not really: any bytes at all')
    expect((await readExactly(tunnel, 38)).toString()).toBe('VERSIONS? not really: any bytes at all')
    tunnel.destroy()
    expect(echoConnections).toBe(before + 1)
    const outcome = traces.filter((t) => t.event === 'webtunnel-server').at(-1)?.detail
    expect(outcome).toMatchObject({ kind: 'tunnel', clientAddress: '127.0.0.1:60000', pipelinedBytesDropped: 0 })
  })

  it('moves a 20 MB body intact (sha256) both ways', async () => {
    const body = randomBytes(20 * 1024 * 1024)
    const tunnel = await dialWebTunnel(world, clientConfigFromArgs(args()), { ca: pki.caPem })
    const started = performance.now()
    const back = readExactly(tunnel, body.length)
    for (let i = 0; i < body.length; i += 256 * 1024) tunnel.write(body.subarray(i, i + 256 * 1024))
    const got = await back
    const ms = performance.now() - started
    tunnel.destroy()
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
    expect(got.length).toBe(body.length)
    expect(sha(got)).toBe(sha(body))
    console.log(`webtunnel via nginx: 20 MiB echoed in ${ms.toFixed(0)} ms (${((2 * body.length) / 1e6 / (ms / 1000)).toFixed(1)} MB/s both directions)`)
  }, 60_000)

  it('accepts a cert= pin instead of a CA, and refuses a wrong pin before sending the upgrade', async () => {
    const pin = certChainPinFromPem(pki.certPem)
    const tunnel = await dialWebTunnel(world, clientConfigFromArgs(args([['cert', pin]])))
    tunnel.write('pinned')
    expect((await readExactly(tunnel, 6)).toString()).toBe('pinned')
    tunnel.destroy()
    const upgradesBefore = traces.filter((t) => t.event === 'webtunnel-client-upgrade').length
    const wrong = Buffer.from(pin, 'base64')
    wrong[0] ^= 1
    await expect(dialWebTunnel(world, clientConfigFromArgs(args([['cert', wrong.toString('base64')]])))).rejects.toThrow(WebTunnelError)
    expect(traces.filter((t) => t.event === 'webtunnel-client-upgrade').length).toBe(upgradesBefore)
    // And without pin or the lab CA, ordinary verification refuses the lab certificate.
    await expect(dialWebTunnel(world, clientConfigFromArgs(args()))).rejects.toThrow()
  })

  it('serves the ordinary site on other paths, and nginx-identical 404 pages on the secret path without an upgrade', async () => {
    const before = echoConnections
    const home = await get('/')
    expect(home.status).toBe(200)
    expect(home.body).toBe(SITE)
    const nginxOwn404 = await get('/no-such-page')
    const ours404 = await get(SECRET)
    expect(nginxOwn404.status).toBe(404)
    expect(ours404.status).toBe(404)
    expect(ours404.body).toBe(nginxOwn404.body)
    expect(ours404.headers['content-type']).toBe(nginxOwn404.headers['content-type'])
    // An upgrade for another protocol is not ours either.
    expect((await get(SECRET, { Connection: 'upgrade', Upgrade: 'h2c' })).status).toBe(404)
    expect(echoConnections).toBe(before)
  })

  it('answers garbage sent straight to the server with a plain 400 page, never reaching the bridge', async () => {
    const before = echoConnections
    const s = net.connect(server.port, '127.0.0.1')
    s.write('\x16\x03\x01\x00\x05hello\r\n\r\n')
    const reply = await new Promise<string>((r) => {
      let t = ''
      s.on('data', (b) => (t += b.toString('latin1')))
      s.on('end', () => r(t))
    })
    expect(reply.startsWith('HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n')).toBe(true)
    expect(reply).toContain('<center><h1>400 Bad Request</h1></center>')
    expect(echoConnections).toBe(before)
  })
})

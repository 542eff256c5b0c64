// node:tls client and server over a simulated (seeded, segmenting) link: TLS 1.3 with the lab's
// Ed25519 test certificate, one HTTP request and response. Passes if the handshake completed as
// TLS 1.3 with a verified certificate and both sides got exactly the bytes the other sent. With
// opts.pcap the run is tapped and its secrets written beside the pcap, so tshark can decrypt it.
// OpenSSL's randomness makes the bytes differ run to run; the trace holds only lengths and times.

import type { TLSSocket } from 'node:tls'
import type { Conn } from '../../src/net/world.js'
import { SimNetwork } from '../../src/net/sim/network.js'
import { SimError } from '../../src/net/sim/scheduler.js'
import { tapNetwork } from '../../src/net/sim/tap.js'
import { acceptTls } from '../../src/tls/accept.js'
import { connectTls } from '../../src/tls/connect.js'
import { labTls } from '../fixtures/index.js'
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.js'

const PORT = 443

/** Reads until EOF. */
function readAll(s: TLSSocket | Conn): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    s.on('data', (d: Buffer) => parts.push(d))
    s.once('end', () => resolve(Buffer.concat(parts)))
    s.once('error', reject)
  })
}

/** Reads until the end of an HTTP/1.1 request head. */
function readHead(s: TLSSocket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (buf.includes('\r\n\r\n')) {
        s.off('data', onData)
        resolve(buf)
      }
    }
    s.on('data', onData)
    s.once('error', reject)
    s.once('end', () => reject(new Error(`EOF before the request head ended (${buf.length} bytes)`)))
  })
}

export async function runTlsHandshake(opts: ScenarioOptions): Promise<ScenarioResult> {
  const fx = labTls()
  const net = new SimNetwork(opts.seed)
  const client = net.addHost('client', '10.0.0.1')
  const server = net.addHost('server', '10.0.0.2')
  net.link('client', 'server')
  const tap = opts.pcap ? await tapNetwork(net, opts.pcap) : undefined

  const rng = net.rng.stream('scenario:tls-handshake')
  const bodyLen = rng.int(1, 40_000)
  net.option('responseBody', bodyLen)
  const body = Buffer.alloc(bodyLen, `sultry lab seed ${opts.seed}: hello over simulated TLS 1.3\n`)
  const request = Buffer.from(`GET /lab HTTP/1.1\r\nHost: ${fx.serverName}\r\nUser-Agent: sultry-lab\r\nConnection: close\r\n\r\n`)
  const response = Buffer.concat([
    Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${bodyLen}\r\nConnection: close\r\n\r\n`),
    body,
  ])

  let serverGot: Buffer | undefined
  let serverClosed = false
  const serverErrors: string[] = []
  await server.world.net.listen(PORT, (conn: Conn) => {
    conn.on('close', () => (serverClosed = true))
    void (async () => {
      const tlsSock = await acceptTls(server.world, conn, {
        key: fx.serverKey,
        cert: fx.serverCert,
        minVersion: 'TLSv1.3',
        ALPNProtocols: ['http/1.1'],
      })
      serverGot = await readHead(tlsSock)
      tlsSock.end(response)
    })().catch((e: Error) => serverErrors.push(e.message))
  })

  const outcome = (async () => {
    const conn = await client.world.net.connect(server.address, PORT)
    const tlsSock = await connectTls(client.world, conn, {
      servername: fx.serverName,
      ca: fx.caCert,
      minVersion: 'TLSv1.3',
      ALPNProtocols: ['http/1.1'],
    })
    const info = { protocol: tlsSock.getProtocol(), authorized: tlsSock.authorized, alpn: tlsSock.alpnProtocol, cipher: tlsSock.getCipher().standardName }
    const got = readAll(tlsSock)
    tlsSock.write(request)
    const reply = await got
    tlsSock.end()
    await new Promise<void>((r) => (conn.destroyed ? r() : conn.once('close', () => r())))
    return { info, reply }
  })()

  let ok = false
  let detail: string
  try {
    await net.run({ until: outcome, maxVirtualMs: 600_000 })
    const { info, reply } = await outcome
    await net.run({ until: () => serverClosed || serverErrors.length > 0, maxVirtualMs: 600_000 })
    const problems: string[] = []
    if (info.protocol !== 'TLSv1.3') problems.push(`protocol ${info.protocol}`)
    if (!info.authorized) problems.push('certificate not verified')
    if (info.alpn !== 'http/1.1') problems.push(`alpn ${info.alpn}`)
    if (!serverGot?.equals(request)) problems.push(`server got ${serverGot?.length ?? 0} bytes, not the ${request.length}-byte request`)
    if (!reply.equals(response)) problems.push(`client got ${reply.length} bytes, not the ${response.length}-byte response`)
    if (serverErrors.length) problems.push(`server: ${serverErrors.join('; ')}`)
    ok = problems.length === 0
    detail = ok
      ? `TLS 1.3 (${info.cipher}, verified, alpn ${info.alpn}); ${request.length}-byte request and ${response.length}-byte response intact`
      : problems.join('; ')
  } catch (e) {
    detail = e instanceof SimError ? e.message : `failed: ${e instanceof Error ? e.message : String(e)}`
  }
  await tap?.close()
  if (tap) opts.log(`tapped ${tap.packets} packets to ${tap.path}, ${net.keylog.all().length} keylog lines to ${tap.keylogPath}`)
  return { ok, detail, traceHash: net.traceHash(), options: net.options(), virtualMs: net.sched.now() }
}

export const tlsHandshake: Scenario = {
  name: 'tls-handshake',
  summary: 'node:tls TLS 1.3 client and server over a simulated segmenting link; HTTP request/response; pcap + keylog decrypt',
  run: (opts) => runTlsHandshake(opts),
}

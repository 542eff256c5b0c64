// The original Sultry design's failure, kept as a regression (notes/sni-censorship.md §1.2, §2):
// the TLS handshake goes one way — through the OOB helper, which relays it to the server over its
// own TCP connection — and the application data then goes "direct", on a fresh TCP connection from
// the client to the server. It cannot work: the server's TLS state belongs to the connection it
// accepted from the helper; the fresh connection is a new accept() whose TLS server expects a
// ClientHello and gets an encrypted application_data record. The scenario records what each side
// says (OpenSSL's error on the server, the alert on the wire, the client's error) and passes when
// the rejection happens, the request never reaches the server's application, and — the control —
// the same request on the connection the handshake used is answered.

import { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import { labSite, labTls } from '../fixtures/index.js'
import type { SimHost } from '../../src/net/sim/host.js'
import { SimNetwork } from '../../src/net/sim/network.js'
import { SimError } from '../../src/net/sim/scheduler.js'
import { tapNetwork } from '../../src/net/sim/tap.js'
import type { Conn } from '../../src/net/world.js'
import { acceptTls } from '../../src/tls/accept.js'
import { connectTls } from '../../src/tls/connect.js'
import { alertDescriptionName, decodeAlert } from '../../src/wire/tls/alert.js'
import { ContentType, decodeRecord } from '../../src/wire/tls/record.js'
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.js'

const NAME = 'blocked.example'
const SERVER = { host: 'server', address: '10.0.1.2' }
const HELPER = { host: 'helper', address: '10.0.2.1', port: 8443 }
const REQUEST = Buffer.from(`GET / HTTP/1.1\r\nHost: ${NAME}\r\nConnection: close\r\n\r\n`)
const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'
const DEADLINE_MS = 20_000

/** The client's TLS transport: writes go to `target` (switchable: the "handoff"), reads come from every attached conn. */
class HandoffTransport extends Duplex {
  constructor(public target: Conn) {
    super()
    this.attach(target)
  }

  attach(c: Conn): void {
    c.on('data', (d: Buffer) => this.push(d))
    c.on('error', (e: Error) => this.destroy(e))
    c.on('end', () => this.push(null))
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.target.write(chunk, cb)
  }

  override _read(): void {}
}

interface ServerLog {
  /** Per accepted connection, in order: 'secure' or the TLS error (code: message). */
  accepts: string[]
  requests: number
}

function serve(server: SimHost, log: ServerLog): Promise<unknown> {
  const site = labSite(NAME)
  return server.world.net.listen(443, (conn) => {
    conn.on('error', () => {})
    const i = log.accepts.push('pending') - 1
    acceptTls(server.world, conn, { key: site.key, cert: site.cert, minVersion: 'TLSv1.3', handshakeTimeoutMs: DEADLINE_MS }).then(
      (tls) => {
        log.accepts[i] = 'secure'
        tls.on('error', () => {})
        let got = Buffer.alloc(0)
        tls.on('data', (d: Buffer) => {
          got = Buffer.concat([got, d])
          if (got.includes('\r\n\r\n')) {
            log.requests++
            tls.end(RESPONSE)
          }
        })
      },
      (e: Error & { code?: string; reason?: string }) => (log.accepts[i] = describeError(e)),
    )
  })
}

/** The helper relays bytes between the client and the server (the original's /handshake path). */
function relay(helper: SimHost): Promise<unknown> {
  return helper.world.net.listen(HELPER.port, (inbound) => {
    inbound.on('error', () => {})
    inbound.pause()
    helper.world.net.connect(SERVER.address, 443).then(
      (out) => {
        out.on('error', () => {})
        inbound.pipe(out)
        out.pipe(inbound)
        inbound.resume()
      },
      () => inbound.destroy(),
    )
  })
}

/** OpenSSL errors carry a code and a reason ("unexpected message"); the full message has a process address in it. */
function describeError(e: Error & { code?: string; reason?: string }): string {
  return e.reason ? `${e.code ?? 'error'} (${e.reason})` : `${e.code ?? 'error'}: ${e.message}`
}

/** Resolves with the whole response once it arrived, or with what came and the error once the socket failed or closed. */
function readResponse(tls: TLSSocket): Promise<{ data: string; error: string | undefined }> {
  return new Promise((resolve) => {
    let data = ''
    let error: string | undefined
    tls.on('data', (d: Buffer) => {
      data += d.toString()
      if (data.endsWith(RESPONSE)) resolve({ data, error })
    })
    tls.on('error', (e: Error & { code?: string; reason?: string }) => {
      error ??= describeError(e)
      resolve({ data, error })
    })
    tls.on('close', () => resolve({ data, error }))
  })
}

/** Every TLS alert in the bytes the server sent on the fresh connection. */
function alertsIn(bytes: Buffer): string[] {
  const out: string[] = []
  let at = 0
  while (at < bytes.length) {
    let rec
    try {
      rec = decodeRecord(bytes.subarray(at))
    } catch {
      out.push(`undecodable bytes at ${at}`)
      break
    }
    if (rec.record.type === ContentType.alert) {
      const a = decodeAlert(rec.record.fragment)
      out.push(`${a.level === 2 ? 'fatal' : 'warning'} ${alertDescriptionName(a.description) ?? a.description}`)
    }
    at += rec.used
  }
  return out
}

export interface SeedBugFacts {
  handshakeViaHelper: boolean
  /** The server's TLS error on the fresh connection. */
  serverError: string | undefined
  /** Alerts the server sent back on the fresh connection. */
  alerts: string[]
  /** How the client's TLS socket ended after the handoff. */
  clientError: string | undefined
  clientGotResponse: boolean
  /** Requests the server's application received in the handoff run (must be 0). */
  requestsAfterHandoff: number
  /** The control: the same request on the relayed connection, answered. */
  controlResponse: string
}

export async function runSeedBug(opts: ScenarioOptions): Promise<ScenarioResult & { facts?: SeedBugFacts }> {
  const net = new SimNetwork(opts.seed)
  const client = net.addHost('client', '10.0.0.1')
  const helper = net.addHost(HELPER.host, HELPER.address)
  const server = net.addHost(SERVER.host, SERVER.address)
  net.link('client', 'helper')
  net.link('helper', 'server')
  net.link('client', 'server')
  const tap = opts.pcap ? await tapNetwork(net, opts.pcap) : undefined
  const log: ServerLog = { accepts: [], requests: 0 }
  await serve(server, log)
  await relay(helper)
  const ca = labTls().caCert
  const world = client.world

  const handoff = (async () => {
    const viaHelper = await world.net.connect(HELPER.address, HELPER.port)
    const transport = new HandoffTransport(viaHelper)
    const tls = await connectTls(world, transport as unknown as Conn, { servername: NAME, ca, minVersion: 'TLSv1.3' })
    const handshakeViaHelper = tls.authorized
    opts.log(`handshake through the helper: ${tls.getProtocol()} ${tls.getCipher().standardName}`)
    // The seed design's "direct connection": a fresh TCP connection to the server for the data.
    const direct = await world.net.connect(SERVER.address, 443)
    const fromServer: Buffer[] = []
    direct.on('data', (d: Buffer) => fromServer.push(d))
    direct.on('error', () => {})
    transport.target = direct
    transport.attach(direct)
    const ended = readResponse(tls)
    tls.write(REQUEST)
    const timer = world.setTimer(DEADLINE_MS, () => tls.destroy(new Error('no answer on the fresh connection')))
    const { data, error } = await ended
    timer.cancel()
    viaHelper.destroy()
    direct.destroy()
    return { handshakeViaHelper, clientError: error, clientGotResponse: data.includes('200 OK'), alerts: alertsIn(Buffer.concat(fromServer)) }
  })()

  let facts: SeedBugFacts | undefined
  let ok = false
  let detail: string
  try {
    await net.run({ until: handoff, maxVirtualMs: 600_000 })
    const h = await handoff
    await net.run({ until: () => log.accepts.length >= 2 && log.accepts[1] !== 'pending' && log.accepts[0] !== 'pending', maxVirtualMs: 600_000 })
    const serverError = log.accepts[1]
    const requestsAfterHandoff = log.requests

    // Control: the same request on the connection the handshake went over is answered.
    const control = (async () => {
      const conn = await world.net.connect(HELPER.address, HELPER.port)
      const tls = await connectTls(world, conn, { servername: NAME, ca, minVersion: 'TLSv1.3' })
      const ended = readResponse(tls)
      tls.write(REQUEST)
      const r = await ended
      conn.destroy()
      return r.data
    })()
    await net.run({ until: control, maxVirtualMs: 600_000 })
    const controlResponse = await control
    facts = { ...h, serverError, requestsAfterHandoff, controlResponse }

    const problems: string[] = []
    if (!h.handshakeViaHelper || log.accepts[0] !== 'secure') problems.push(`the handshake through the helper did not complete (server: ${log.accepts[0]})`)
    if (!serverError || !/^ERR_SSL_/.test(serverError)) problems.push(`server did not reject the fresh connection with a TLS error (${serverError})`)
    if (requestsAfterHandoff !== 0) problems.push(`server application got ${requestsAfterHandoff} request(s) after the handoff`)
    if (h.clientGotResponse) problems.push('client got a response over the fresh connection')
    if (!controlResponse.includes('200 OK')) problems.push(`control request on the relayed connection not answered (${JSON.stringify(controlResponse.slice(0, 40))})`)
    ok = problems.length === 0
    detail = ok
      ? `handshake via helper ok; fresh connection rejected by the server: ${serverError}; alerts on the wire: ${h.alerts.join(', ') || 'none'}; client: ${h.clientError ?? 'closed without error'}; control on the relayed connection: 200 OK`
      : problems.join('; ')
  } catch (e) {
    detail = e instanceof SimError ? e.message : `failed: ${e instanceof Error ? e.message : String(e)}`
  }
  await tap?.close()
  return { ok, detail, traceHash: net.traceHash(), options: net.options(), virtualMs: net.sched.now(), facts }
}

export const seedBug: Scenario = {
  name: 'seed-bug',
  summary: "original design's failure: handshake via the helper, data on a fresh TCP connection -> the server's TLS rejects it",
  run: (opts) => runSeedBug(opts),
}

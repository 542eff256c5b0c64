// One measured connection: a node:tls client (the browser) speaks to the local proxy over an
// in-memory pipe; the proxy reads its first flight with the ClientHelloGate, hands it to the
// strategy under test (the real one from src/proxy/strategies), and splices. It works when the TLS
// handshake completes with a verified certificate and the origin's whole response (a greeting and
// a 32 KiB body) arrives; it is blocked when anything else happens within the deadline (timeout,
// reset, error, a response frozen part way), with the reason kept.

import { duplexPair } from 'node:stream'
import { labTls } from '../fixtures/index.js'
import { NetError, type Conn } from '../../src/net/world.js'
import { ClientHelloGate, type GateDecision } from '../../src/proxy/client-hello-gate.js'
import { abort, splice } from '../../src/proxy/pipe.js'
import type { Strategy, StrategyContext } from '../../src/proxy/strategy.js'
import { connectTls } from '../../src/tls/connect.js'
import { originResponse, type MatrixLab, type OriginName } from './topology.js'

export interface AttemptResult {
  works: boolean
  /** 'ok', 'timeout', or the error code/message that ended it. */
  reason: string
  /** Virtual ms from the browser's connect to its TLS handshake completing, if it did (a throttled flow completes it and then freezes). */
  handshakeMs: number | undefined
}

export const ATTEMPT_DEADLINE_MS = 15_000

function firstFlight(proxySide: Conn): Promise<GateDecision> {
  const gate = new ClientHelloGate()
  return new Promise((resolve) => {
    const onData = (d: Buffer) => {
      const r = gate.push(d)
      if (!r) return
      proxySide.off('data', onData)
      proxySide.pause()
      resolve(r)
    }
    proxySide.on('data', onData)
  })
}

/** Runs one connection to `origin` through `strategy` and the network until it settles. */
export async function attempt(lab: MatrixLab, strategy: Strategy, origin: OriginName): Promise<AttemptResult> {
  const world = lab.client.world
  const t0 = world.now()
  const [browserSide, proxySide] = duplexPair()
  let handshakeMs: number | undefined
  let upstream: Conn | undefined
  // The browser↔proxy hop stands in for a local TCP connection: when the proxy drops the tunnel
  // (abort() resets a real socket), the browser sees a reset.
  proxySide.once('close', () => browserSide.destroy(new NetError('ECONNRESET', 'the proxy reset the tunnel')))

  const proxy = (async () => {
    const d = await firstFlight(proxySide)
    const bytes = d.kind === 'client-hello' ? Buffer.concat([d.raw, d.rest]) : d.bytes
    const ctx: StrategyContext = {
      world,
      target: { host: origin, port: 443 },
      firstFlight: bytes,
      hello: d.kind === 'client-hello' ? d : undefined,
      client: proxySide,
      resolve: lab.resolve,
      oob: lab.oob,
    }
    upstream = await strategy.connect(ctx)
    await splice(proxySide, upstream)
  })()
  proxy.catch(() => abort(proxySide))

  const browser = (async (): Promise<string> => {
    const tls = await connectTls(world, browserSide, { servername: origin, ca: labTls().caCert, minVersion: 'TLSv1.3' })
    handshakeMs = world.now() - t0
    // The whole response must arrive: a throttled flow gets the handshake and then freezes.
    const want = originResponse(origin)
    const got = await new Promise<string>((resolve, reject) => {
      let text = ''
      tls.on('data', (b: Buffer) => {
        text += b.toString()
        if (text.length >= want.length) resolve(text)
      })
      tls.once('error', reject)
      tls.once('end', () => reject(new Error(`EOF after ${text.length} of ${want.length} response bytes`)))
    })
    tls.destroy()
    return got === want ? 'ok' : `wrong response (${got.length} bytes, starting ${JSON.stringify(got.slice(0, 30))})`
  })()

  const outcome = new Promise<string>((resolve) => {
    const timer = world.setTimer(ATTEMPT_DEADLINE_MS, () => resolve('timeout'))
    const settle = (r: string) => {
      timer.cancel()
      resolve(r)
    }
    browser.then(settle, (e: Error & { code?: string }) => settle(e.code ?? e.message))
    // A strategy that cannot even connect (reset, refused) ends the attempt with its reason.
    proxy.catch((e: Error & { code?: string }) => settle(e.code ?? e.message))
  })
  await lab.net.run({ until: outcome, maxVirtualMs: ATTEMPT_DEADLINE_MS * 4 })
  const reason = await outcome
  browserSide.destroy()
  proxySide.destroy()
  if (upstream) abort(upstream)
  const works = reason === 'ok'
  return { works, reason, handshakeMs }
}

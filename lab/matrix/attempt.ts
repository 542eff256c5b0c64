// One measured connection, the way curl makes it through `sultry proxy`: the browser (node:tls)
// sends HTTP CONNECT to the proxy's front (the real ProxyFront, handed the proxy end of an
// in-memory pipe: the proxy is local), which reads the first flight and runs the strategy under
// test (or the planner, for auto) from src/proxy, then splices. It works when the TLS handshake
// completes with a verified certificate and the origin's whole response (a greeting and a 32 KiB
// body) arrives; it is blocked when anything else happens within the deadline (timeout, reset,
// error, a response frozen part way), with the reason kept. browse() is what a browser (or its
// user) does with a load that failed: loads the page again through the same proxy, whose planner
// may have learned from the first (a freeze is only seen after the handshake, so the frozen load
// itself cannot be saved).

import { type Duplex, duplexPair } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import { labTls } from '../fixtures/index.js'
import { NetError, type World } from '../../src/net/world.js'
import { ProxyFront } from '../../src/proxy/front.js'
import { Planner, type PlannerOptions } from '../../src/proxy/planner.js'
import { strategies } from '../../src/proxy/strategies/index.js'
import { STRATEGY_NAMES, type StrategyName } from '../../src/proxy/strategy.js'
import { VerdictStore } from '../../src/proxy/verdict-store.js'
import { connectTls } from '../../src/tls/connect.js'
import { originResponse, type MatrixLab, type OriginName } from './topology.js'

export type Choice = StrategyName | 'auto'

export interface AttemptResult {
  works: boolean
  /** 'ok', 'timeout', or the error code/message that ended it. */
  reason: string
  /** Virtual ms from the CONNECT to the browser's TLS handshake completing, if it did (a throttled flow completes it and then freezes). */
  handshakeMs: number | undefined
  /** The strategy the proxy used (for auto: the planner's pick), if it got that far. */
  used: StrategyName | undefined
}

export interface BrowseResult extends AttemptResult {
  /** The failed loads before this one (the last load is the result itself). */
  earlier: AttemptResult[]
}

export const ATTEMPT_DEADLINE_MS = 15_000
/** The planner's bound per strategy tried (its default is 5 s; five tries must fit the deadline). */
export const PLANNER_ATTEMPT_MS = 2_000

/** A proxy front on the lab's client host, as `sultry proxy --strategy CHOICE` would run it. */
export function labProxy(lab: MatrixLab, choice: Choice, log?: (line: string) => void, stall?: PlannerOptions['stall']): ProxyFront {
  const impls = strategies()
  const world = lab.client.world
  const planner =
    choice === 'auto'
      ? new Planner({ world, store: new VerdictStore(), strategies: impls, available: STRATEGY_NAMES, attemptTimeoutMs: PLANNER_ATTEMPT_MS, stall, log })
      : undefined
  return new ProxyFront({ world, strategyFor: () => choice, strategies: impls, planner, resolver: lab.resolve, oob: lab.oob, nonTls: 'pass', log })
}

/** Loads `origin` through `proxy` until a load works or `loads` have failed: a browser's reload after a failed page. */
export async function browse(lab: MatrixLab, proxy: ProxyFront, origin: OriginName, loads: number): Promise<BrowseResult> {
  const earlier: AttemptResult[] = []
  for (;;) {
    const r = await attempt(lab, proxy, origin)
    if (r.works || earlier.length + 1 >= loads) return { ...r, earlier }
    earlier.push(r)
  }
}

/** Reads the proxy's answer to CONNECT (up to the blank line); resolves with its status line. */
function connectReply(c: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let head = ''
    const onData = (b: Buffer) => {
      head += b.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      c.off('data', onData)
      c.pause()
      // The proxy says nothing more before the server's first bytes, which need our ClientHello.
      if (end + 4 !== head.length) return reject(new Error('bytes after the CONNECT reply'))
      resolve(head.slice(0, head.indexOf('\r\n')))
    }
    c.on('data', onData)
    c.once('error', reject)
    c.once('close', () => reject(new Error('proxy closed before answering CONNECT')))
  })
}

/** The browser's end of a CONNECT tunnel through `proxy` (an in-memory pipe; `proxySide` is handed to the proxy). */
export function tunnelPair(proxy: ProxyFront): { browserSide: Duplex; proxySide: Duplex } {
  const [browserSide, proxySide] = duplexPair()
  // The browser↔proxy hop stands in for a local TCP connection: when the proxy drops the tunnel
  // (abort() resets a real socket), the browser sees a reset.
  proxySide.once('close', () => browserSide.destroy(new NetError('ECONNRESET', 'the proxy reset the tunnel')))
  proxy.handle(proxySide)
  return { browserSide, proxySide }
}

/** CONNECT to `origin` on `browserSide`, then the browser's TLS handshake inside the tunnel. */
export async function openTls(world: World, browserSide: Duplex, origin: OriginName): Promise<TLSSocket | string> {
  const reply = connectReply(browserSide)
  browserSide.write(`CONNECT ${origin}:443 HTTP/1.1\r\nHost: ${origin}:443\r\n\r\n`)
  const status = await reply
  if (!/^HTTP\/1\.1 200 /.test(status)) return `proxy answered ${status}`
  return connectTls(world, browserSide, { servername: origin, ca: labTls().caCert, minVersion: 'TLSv1.3' })
}

/** Runs one connection to `origin` through `proxy` and the network until it settles. */
export async function attempt(lab: MatrixLab, proxy: ProxyFront, origin: OriginName): Promise<AttemptResult> {
  const world = lab.client.world
  const t0 = world.now()
  const before = { ...proxy.stats.strategies }
  let handshakeMs: number | undefined
  const { browserSide, proxySide } = tunnelPair(proxy)

  const browser = (async (): Promise<string> => {
    const tls = await openTls(world, browserSide, origin)
    if (typeof tls === 'string') return tls
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
    browser.then(
      (r) => {
        timer.cancel()
        resolve(r)
      },
      (e: Error & { code?: string }) => {
        timer.cancel()
        resolve(e.code ?? e.message)
      },
    )
  })
  await lab.net.run({ until: outcome, maxVirtualMs: ATTEMPT_DEADLINE_MS * 4 })
  const reason = await outcome
  browserSide.destroy()
  proxySide.destroy()
  const used = STRATEGY_NAMES.find((s) => proxy.stats.strategies[s] > before[s])
  return { works: reason === 'ok', reason, handshakeMs, used }
}

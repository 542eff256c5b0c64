// The stall watch through the real proxy (front, planner, tunnel) in the simulated network with no
// censor: silence that is somebody's choice must not be judged a freeze, and a path that holds
// bytes for a while and then lets them go is judged and taken back. The origin here speaks like an
// HTTP/1.1 server on a kept-alive connection: one response per request line, after a think time,
// and the connection stays open in between.

import type { TLSSocket } from 'node:tls'
import { describe, expect, it } from 'vitest'
import type { World } from '../../src/net/world.js'
import type { PlannerOptions } from '../../src/proxy/planner.js'
import { labProxy, openTls, tunnelPair } from './attempt.js'
import { matrixLab, type MatrixLab } from './topology.js'

const RESPONSE = 40 * 1024

/**
 * Answers each "GET n <think-ms>\n" with RESPONSE bytes after <think-ms>, and keeps the connection
 * open. `onWrite` runs as each response is handed to the network.
 */
const thinkingOrigin = (onWrite?: (world: World) => void) => (tls: TLSSocket, _name: string, world: World): void => {
  let buf = ''
  tls.on('data', (d: Buffer) => {
    buf += d.toString()
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const think = Number(buf.slice(0, nl).split(' ')[2])
      buf = buf.slice(nl + 1)
      world.setTimer(think, () => {
        tls.write('r'.repeat(RESPONSE))
        onWrite?.(world)
      })
    }
  })
}

/** The browser's side: a request, then the whole response. */
function request(tls: TLSSocket, n: number, thinkMs: number): Promise<void> {
  return new Promise((resolve) => {
    let got = 0
    const onData = (d: Buffer) => {
      got += d.length
      if (got < RESPONSE) return
      tls.off('data', onData)
      resolve()
    }
    tls.on('data', onData)
    tls.write(`GET ${n} ${thinkMs}\n`)
  })
}

const sleep = (world: World, ms: number) => new Promise<void>((r) => world.setTimer(ms, r))

async function session(seed: number, script: (tls: TLSSocket, world: World) => Promise<void>, onWrite?: (lab: MatrixLab, world: World) => void, stall?: PlannerOptions['stall']) {
  const lab: MatrixLab = await matrixLab({ seed, serve: thinkingOrigin((w) => onWrite?.(lab, w)) })
  const log: string[] = []
  const proxy = labProxy(lab, 'auto', (l) => log.push(l), stall)
  const world = lab.client.world
  const { browserSide, proxySide } = tunnelPair(proxy)
  const done = (async () => {
    const tls = await openTls(world, browserSide, 'blocked.example')
    if (typeof tls === 'string') throw new Error(tls)
    await script(tls, world)
    tls.destroy()
  })()
  await lab.net.run({ until: done, maxVirtualMs: 600_000 })
  await done
  browserSide.destroy()
  proxySide.destroy()
  return { log, stalls: proxy.stats.stalls }
}

describe('stall watch: no freeze where someone chose silence', () => {
  it('a slow first answer (3 s), then a kept-alive connection idle for minutes between requests', async () => {
    for (const seed of [1, 2, 3]) {
      const r = await session(seed, async (tls, world) => {
        await request(tls, 1, 3000)
        await sleep(world, 120_000)
        // A later request is no first exchange: its think time is the server's business.
        await request(tls, 2, 20_000)
        await sleep(world, 60_000)
      })
      expect(r.log.filter((l) => /throttled|resumed/.test(l)), `seed ${seed}`).toEqual([])
      expect(r.stalls).toBe(0)
      expect(r.log.join('\n')).toMatch(/blocked\.example: direct works/)
    }
  })

  it('a first answer slower than any bound is not judged either: the TLS 1.3 session tickets came after the request', async () => {
    // node:tls (OpenSSL) sends its NewSessionTickets after the client's Finished, which leaves with
    // the request: those records answer it. Only a flow frozen before them is "unanswered".
    const r = await session(1, async (tls) => {
      await request(tls, 1, 12_000)
    })
    expect(r.log.filter((l) => /throttled|resumed/.test(l))).toEqual([])
    expect(r.stalls).toBe(0)
  })

  // 50 ms into the 40 KiB response (28 ms latency and 1 MB/s on this seed's link: some 20 KB on the way) the path holds the rest, for 6 s.
  const holdSixSeconds = (lab: MatrixLab, world: World) => {
    world.setTimer(50, () => lab.net.hold('client', 'blocked'))
    world.setTimer(50 + 6000, () => lab.net.release('client', 'blocked'))
  }

  it('a path that holds the response mid-record for 6 s is judged at 4 s, and taken back when the bytes come', async () => {
    const r = await session(1, (tls) => request(tls, 1, 100), holdSixSeconds)
    expect(r.stalls).toBe(1)
    expect(r.log.join('\n')).toMatch(/blocked\.example: throttled on direct: the server stopped inside a TLS record after \d+ B down/)
    expect(r.log.join('\n')).toMatch(/blocked\.example: direct resumed \d+ ms after the stall: not throttled after all/)
  })

  it('the bounds are the user\'s (sultry proxy --stall-mid-record, --no-stall-watch): 8 s or no watch judges nothing', async () => {
    for (const stall of [{ midRecordMs: 8000 }, false] as const) {
      const r = await session(1, (tls) => request(tls, 1, 100), holdSixSeconds, stall)
      expect(r.stalls, JSON.stringify(stall)).toBe(0)
      expect(r.log.filter((l) => /throttled|resumed/.test(l))).toEqual([])
    }
  })
})

// --strategy auto against a censor that resets (or black-holes) connections whose segment carries
// the blocked name: the planner falls through to a split strategy, curl gets the page, and the
// verdict lands in the state file so the next connection goes straight to the winner.

import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { labTls } from '../../lab/fixtures/index.js'
import { liveWorld } from '../net/live/world.js'
import { ProxyFront } from './front.js'
import { DEFAULT_ORDER, Planner } from './planner.js'
import { policyResolver } from './resolver.js'
import { strategies } from './strategies/index.js'
import { keywordCensor } from './testkit/keyword-censor.js'
import { curl, opensslServer, type Peer, tempDir } from './testkit/peers.js'
import { VerdictStore } from './verdict-store.js'

const fx = labTls()
const dir = tempDir()
const caFile = join(dir, 'ca.pem')
const body = 'past the censor\n'.repeat(100)
const bigBody = 'a page well past a 16 KB freeze\n'.repeat(8000)
let origin: Peer

beforeAll(async () => {
  writeFileSync(caFile, fx.caCert)
  writeFileSync(join(dir, 'page.txt'), body)
  writeFileSync(join(dir, 'big.txt'), bigBody)
  origin = await opensslServer(dir, fx.serverCert, fx.serverKey)
}, 30_000)
afterAll(async () => {
  await origin?.kill()
  rmSync(dir, { recursive: true, force: true })
})

async function autoProxy(statePath: string, attemptTimeoutMs = 3000, midRecordMs?: number) {
  const world = liveWorld()
  const all = strategies()
  const store = new VerdictStore((json) => writeFileSync(statePath, json))
  const logs: string[] = []
  const planner = new Planner({ world, store, strategies: all, available: DEFAULT_ORDER.filter((s) => !s.startsWith('oob')), attemptTimeoutMs, log: (l) => logs.push(l), stall: { midRecordMs } })
  const front = new ProxyFront({ world, strategyFor: () => 'auto', strategies: all, planner, resolver: policyResolver({ map: new Map([['server.lab.test', '127.0.0.1']]) }), oob: undefined, nonTls: 'pass', log: (l) => logs.push(l) })
  const l = await front.listen(0)
  return { front, port: l.port, logs }
}

describe('planner (--strategy auto) with a keyword censor on the path', () => {
  for (const action of ['rst', 'drop'] as const) {
    it(`censor ${action}s "server.lab.test": auto falls through to tcp-split, remembers it, and goes straight there next time`, async () => {
      const censor = await keywordCensor(origin.port, 'server.lab.test', action)
      const statePath = join(dir, `state-${action}.json`)
      const { front, port, logs } = await autoProxy(statePath, 800)
      const url = `https://server.lab.test:${censor.port}/page.txt`
      const r = await curl(['--cacert', caFile, '-x', `http://127.0.0.1:${port}`, url])
      expect(r.stderr).toBe('')
      expect(r.stdout.toString()).toBe(body)
      expect(censor.hits).toBe(1)
      const state = JSON.parse(readFileSync(statePath, 'utf8'))
      expect(state.hosts['server.lab.test'].works.strategy).toBe('tcp-split')
      expect(state.hosts['server.lab.test'].blocked.direct.reason).toBe(action === 'rst' ? 'reset' : 'timeout')
      expect(logs.join('\n')).toMatch(new RegExp(`server.lab.test: tcp-split works .*before it: direct ${action === 'rst' ? 'reset' : 'timeout'}`))
      // Second connection: no new censor hit, tcp-split straight away.
      const again = await curl(['--cacert', caFile, '--socks5-hostname', `127.0.0.1:${port}`, url])
      expect(again.stdout.toString()).toBe(body)
      expect(censor.hits).toBe(1)
      expect(front.stats.strategies['tcp-split']).toBe(2)
      expect(front.stats.strategies.direct).toBe(0)
      await front.close()
      await censor.close()
    }, 30_000)
  }

  it('censor throttles "server.lab.test" after 16 000 bytes: the first download freezes and is judged throttled; the retry goes to record-split and gets the page', async () => {
    const censor = await keywordCensor(origin.port, 'server.lab.test', { throttleAfter: 16_000 })
    const statePath = join(dir, 'state-throttle.json')
    const { front, port, logs } = await autoProxy(statePath, 3000, 1500)
    const url = `https://server.lab.test:${censor.port}/big.txt`
    // The handshake fits in the budget, so the planner picks direct; curl gives up on the frozen body.
    const first = await curl(['--cacert', caFile, '--max-time', '5', '-x', `http://127.0.0.1:${port}`, url])
    expect(first.code).toBe(28)
    expect(first.stdout.length).toBeLessThan(16_000)
    expect(logs.join('\n')).toMatch(/server\.lab\.test: throttled on direct: the server stopped inside a TLS record after \d+ B down \/ \d+ B up .*next connection tries record-split first/)
    expect(JSON.parse(readFileSync(statePath, 'utf8')).hosts['server.lab.test'].blocked.direct.reason).toBe('throttled')
    expect(front.stats.stalls).toBe(1)
    // The browser's retry: the most capable strategy here (no helper), which keeps the name from the censor.
    const again = await curl(['--cacert', caFile, '--max-time', '10', '-x', `http://127.0.0.1:${port}`, url])
    expect(again.stderr).toBe('')
    expect(again.stdout.toString()).toBe(bigBody)
    expect(censor.hits).toBe(1)
    expect(front.stats.strategies['record-split']).toBe(1)
    expect(JSON.parse(readFileSync(statePath, 'utf8')).hosts['server.lab.test'].works.strategy).toBe('record-split')
    await front.close()
    await censor.close()
  }, 30_000)

  it('an uncensored host stays on direct', async () => {
    const statePath = join(dir, 'state-free.json')
    const { front, port } = await autoProxy(statePath)
    const r = await curl(['--cacert', caFile, '-x', `http://127.0.0.1:${port}`, `https://server.lab.test:${origin.port}/page.txt`])
    expect(r.stdout.toString()).toBe(body)
    expect(JSON.parse(readFileSync(statePath, 'utf8')).hosts['server.lab.test'].works.strategy).toBe('direct')
    expect(front.stats.strategies.direct).toBe(1)
    await front.close()
  }, 30_000)

  it('HelloRetryRequest: the second ClientHello (SNI again) is split too, so the censor never sees the name', async () => {
    // The server only accepts P-256; curl key-shares X25519 first, so the server asks to retry.
    const hrrDir = tempDir('sultry-hrr-')
    writeFileSync(join(hrrDir, 'page.txt'), body)
    const hrr = await opensslServer(hrrDir, fx.serverCert, fx.serverKey, ['-groups', 'P-256', '-tls1_3'])
    try {
      for (const s of ['tcp-split', 'record-split'] as const) {
        const censor = await keywordCensor(hrr.port, 'server.lab.test', 'rst')
        const world = liveWorld()
        const all = strategies()
        const logs: string[] = []
        const front = new ProxyFront({ world, strategyFor: () => s, strategies: all, planner: undefined, resolver: policyResolver({ map: new Map([['server.lab.test', '127.0.0.1']]) }), oob: undefined, nonTls: 'pass', log: (l) => logs.push(l) })
        const port = (await front.listen(0)).port
        const r = await curl(['--cacert', caFile, '--curves', 'X25519:P-256', '-x', `http://127.0.0.1:${port}`, `https://server.lab.test:${censor.port}/page.txt`])
        expect(r.stderr).toBe('')
        expect(r.stdout.toString()).toBe(body)
        expect(logs.join('\n')).toMatch(new RegExp(`HelloRetryRequest; second ClientHello sent with ${s}`))
        expect(censor.hits).toBe(0)
        await front.close()
        await censor.close()
      }
    } finally {
      await hrr.kill()
      rmSync(hrrDir, { recursive: true, force: true })
    }
  }, 30_000)
})

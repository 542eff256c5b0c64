// Headless Chromium (Debian's) through the proxy on loopback, for each strategy, oob-relay via an
// in-process helper: a real browser's ClientHello (GREASE, post-quantum key share, ECH GREASE)
// through every path. The lab CA and a P-256 certificate are made here (Chromium has no Ed25519).

import { createHash, createPublicKey } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveWorld } from '../net/live/world.js'
import { ProxyFront } from './front.js'
import { OobClient } from './oob/client.js'
import { OobServer } from './oob/server.js'
import { policyResolver } from './resolver.js'
import { strategies } from './strategies/index.js'
import type { StrategyName } from './strategy.js'
import { chromiumDump, makeLabCa, nginxServer, type Peer, tempDir } from './testkit/peers.js'

const dir = tempDir('sultry-chromium-')
const marker = `loaded through sultry ${Date.now()}`
let nginx: Peer
let spki = ''
let helper: OobServer
let oob: OobClient
const key = new Uint8Array(32).fill(0x42)

beforeAll(async () => {
  const lab = makeLabCa(dir, ['server.lab.test'])
  spki = createHash('sha256').update(createPublicKey(lab.cert).export({ type: 'spki', format: 'der' })).digest('base64')
  const www = tempDir('sultry-chromium-www-')
  writeFileSync(join(www, 'index.html'), `<!doctype html><html><body><p id="m">${marker}</p></body></html>`)
  nginx = await nginxServer(www, lab.cert, lab.key)
  helper = new OobServer(liveWorld(), { key, tlsCert: lab.cert, tlsKey: lab.key, allowPrivate: true, lookup: async (h) => (h === 'server.lab.test' ? ['127.0.0.1'] : []) })
  const hp = (await helper.listen(0)).port
  oob = new OobClient(liveWorld(), { host: '127.0.0.1', port: hp, coverSni: 'cover.example.org', key, ca: lab.caCert })
}, 60_000)
afterAll(async () => {
  oob?.close()
  await helper?.close()
  await nginx?.kill()
  rmSync(dir, { recursive: true, force: true })
})

describe('headless Chromium through sultry proxy', () => {
  for (const s of ['direct', 'tcp-split', 'record-split', 'oob-relay'] as StrategyName[]) {
    it(`${s}: Chromium loads the page`, async () => {
      const world = liveWorld()
      const logs: string[] = []
      const front = new ProxyFront({ world, strategyFor: (h) => (h === 'server.lab.test' ? s : 'direct'), strategies: strategies(), planner: undefined, resolver: policyResolver({ map: new Map([['server.lab.test', '127.0.0.1']]) }), oob, nonTls: 'refuse', log: (l) => logs.push(l) })
      const port = (await front.listen(0)).port
      const { dom, stderr } = await chromiumDump(`https://server.lab.test:${nginx.port}/`, `http://127.0.0.1:${port}`, spki, join(dir, `profile-${s}`))
      expect(dom, stderr.slice(-2000)).toContain(marker)
      expect(front.stats.strategies[s]).toBeGreaterThanOrEqual(1)
      const line = logs.find((l) => l.startsWith(`server.lab.test:${nginx.port}: ${s} sni=server.lab.test`))
      expect(line).toBeDefined()
      console.log(`chromium ${s}: ${line}`)
      await front.close()
    }, 90_000)
  }
})

// The launcher against real Debian tor: the network bootstraps, the reference C tor client fetches
// a local page through it (curl --socks5-hostname -> 3 hops -> exit -> 127.0.0.1), and stop()
// leaves none of the recorded pids alive.

import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import * as http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServerPort } from './layout.js'
import { startTestnet, type Testnet } from './testnet.js'

let BASE = 0
let net: Testnet | undefined
const dir = mkdtempSync(join(tmpdir(), 'sultry-tornet-'))
let server: http.Server

beforeAll(async () => {
  net = await startTestnet(dir, { basePort: 'auto' })
  BASE = net.basePort
  server = http.createServer((_req, res) => res.end('hello from the lab page\n'))
  await new Promise<void>((r) => server.listen(testServerPort(BASE), '127.0.0.1', r))
}, 150_000)

afterAll(async () => {
  await net?.stop()
  server?.close()
  rmSync(dir, { recursive: true, force: true })
}, 30_000)

describe('lab tor-testnet', () => {
  it('describes the network it started', () => {
    expect(net!.authorities).toHaveLength(3)
    for (const a of net!.authorities) expect(a).toMatch(/^a\d orport=\d+ no-v2 v3ident=[0-9A-F]{40} 127\.0\.0\.1:\d+ [0-9A-F]{40}$/)
    expect(net!.relays.map((r) => r.nick)).toEqual(['a0', 'a1', 'a2', 'r0', 'r1', 'e0', 'e1'])
    expect(net!.exits.map((r) => r.nick)).toEqual(['e0', 'e1'])
    expect(net!.bridgeLine).toMatch(/^127\.0\.0\.1:\d+ [0-9A-F]{40}$/)
    for (const r of net!.relays) {
      expect(r.ntorOnionKey).toMatch(/^[A-Za-z0-9+/]{43}$/)
      expect(r.ed25519).toMatch(/^[A-Za-z0-9+/]{43}$/)
      expect(existsSync(`/proc/${r.pid}`)).toBe(true)
    }
    console.log(`tor-testnet timings (ms): ${JSON.stringify(net!.timings)}`)
  })

  it('both exits advertise exit ports in their microdescriptors', async () => {
    const a0 = net!.relays[0]
    const cons = await fetchText(`http://127.0.0.1:${a0.dirPort}/tor/status-vote/current/consensus-microdesc`)
    const digests = [...cons.matchAll(/^m (\S+)$/gm)].map((m) => m[1])
    const mds = await fetchText(`http://127.0.0.1:${a0.dirPort}/tor/micro/d/${digests.join('-')}`)
    expect(mds.match(/^p accept 1-65535$/gm)?.length).toBe(2)
  })

  it('the reference C tor client fetches a local page through the network', async () => {
    const out = await new Promise<string>((res, rej) =>
      execFile('curl', ['-s', '--max-time', '30', '--socks5-hostname', `127.0.0.1:${net!.socks.port}`, `http://127.0.0.1:${testServerPort(BASE)}/`], (e, so) => (e ? rej(e) : res(so))),
    )
    expect(out).toBe('hello from the lab page\n')
  })

  it('stop() ends exactly the recorded pids', async () => {
    const pids = net!.pids.map((p) => p.pid)
    expect(pids).toHaveLength(10)
    await net!.stop()
    for (const p of pids) expect(existsSync(`/proc/${p}`)).toBe(false)
    net = undefined
  })
})

function fetchText(url: string): Promise<string> {
  return new Promise((res, rej) =>
    http.get(url, (r) => {
      let s = ''
      r.setEncoding('latin1')
      r.on('data', (d) => (s += d))
      r.on('end', () => res(s))
    }).on('error', rej),
  )
}

// What a censor's tap sees, checked with tshark rather than our own parser (notes §10: "capture
// pcaps on the censor link and assert no plaintext SNI there"). No censor: the point is what each
// strategy puts on the client's links, pcap'd by the sim tap and dissected by Wireshark.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tapNetwork } from '../../src/net/sim/tap.js'
import type { StrategyName } from '../../src/proxy/strategy.js'
import { attempt, labProxy } from './attempt.js'
import { HELPER, matrixLab, ORIGINS } from './topology.js'

const dir = mkdtempSync(join(tmpdir(), 'sultry-matrix-wire-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The server_name values tshark finds in ClientHellos, in order (it reassembles TCP and records). */
function sniOnWire(pcap: string): string[] {
  const out = execFileSync('tshark', ['-r', pcap, '-o', 'tcp.desegment_tcp_streams:TRUE', '-d', 'tcp.port==443,tls', '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'tls.handshake.extensions_server_name'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return out.split('\n').map((s) => s.trim()).filter(Boolean)
}

async function capture(name: StrategyName): Promise<{ toOrigin: string; toHelper: string }> {
  const lab = await matrixLab({ seed: 5 })
  // The tap writes what the receiver was handed; with receive-side coalescing off, that is each wire segment.
  for (const far of [ORIGINS['blocked.example'].host, HELPER.host]) lab.net.link('client', far, { ab: { coalesceP: 0 } })
  const toOrigin = join(dir, `${name}-origin.pcap`)
  const toHelper = join(dir, `${name}-helper.pcap`)
  const a = await tapNetwork(lab.net, toOrigin, { between: ['client', ORIGINS['blocked.example'].host] })
  const b = await tapNetwork(lab.net, toHelper, { between: ['client', HELPER.host] })
  const r = await attempt(lab, labProxy(lab, name), 'blocked.example')
  expect(r.works, r.reason).toBe(true)
  await a.close()
  await b.close()
  return { toOrigin, toHelper }
}

describe('the client links as a censor would capture them', () => {
  it('direct: the ClientHello to the origin names blocked.example in clear', async () => {
    const c = await capture('direct')
    expect(sniOnWire(c.toOrigin)).toEqual(['blocked.example'])
    expect(readFileSync(c.toOrigin).includes('blocked.example')).toBe(true)
  })

  it('tcp-split and record-split: the name is still there for a reassembling parser, never whole in one packet for a split-blind one', async () => {
    for (const s of ['tcp-split', 'record-split'] as const) {
      const c = await capture(s)
      expect(sniOnWire(c.toOrigin), s).toEqual(['blocked.example'])
      // The pcap holds one packet per segment; the name never sits whole in any of them.
      expect(readFileSync(c.toOrigin).includes('blocked.example'), s).toBe(false)
    }
  })

  it('oob-relay: no connection to the origin from the client, and only the cover SNI towards the helper', async () => {
    const c = await capture('oob-relay')
    expect(sniOnWire(c.toHelper)).toEqual([HELPER.coverSni])
    expect(readFileSync(c.toHelper).includes('blocked.example')).toBe(false)
    expect(sniOnWire(c.toOrigin)).toEqual([])
  })
})

// C3 and C5 live: the simulator's censor rungs (src/net/sim/censor) as a transparent TCP
// middlebox on the router namespace (censor-process.ts behind iptables REDIRECT), resetting
// flows whose ClientHello names blocked.example. C3 reassembles TCP but reads only the first TLS
// record: tcp-split loses, record-split and oob-relay win. C5 reassembles records too: only
// oob-relay (cover SNI to an unlisted helper) wins. The censor's own log says what it decided.

import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Peer, repoRoot } from '../peers/process.js'
import { type CensorLab, startCensorLab, type Strategy } from './censor-lab.js'

let lab: CensorLab
const censors: Partial<Record<'C3' | 'C5', Peer>> = {}
const censorPort = { C3: 9993, C5: 9995 }

/**
 * Sends every new client TCP flow through the given censor process. Open flows keep their NAT
 * mapping, so they are destroyed first, the proxy's pooled OOB channel included: the next
 * oob-relay request must open a fresh channel through this censor.
 */
function route(rung: 'C3' | 'C5'): void {
  lab.forgetClientFlows()
  const { topo } = lab
  try {
    topo.exec(topo.ns.client, 'ss', ['-K', 'dst', topo.addr.helper])
  } catch {
    // nothing destroyable (no channel yet, or only TIME_WAIT)
  }
  topo.exec(topo.ns.router, 'iptables', ['-t', 'nat', '-F', 'PREROUTING'])
  topo.exec(topo.ns.router, 'iptables', ['-t', 'nat', '-A', 'PREROUTING', '-i', topo.clientSideDev, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(censorPort[rung])])
}

/** The censor's decisions logged since `from` for flows to `dst` (default: the origin's port 443). */
const decisions = (rung: 'C3' | 'C5', from: number, dst = `${lab.topo.addr.server}:443`): string[] =>
  censors[rung]!.output().slice(from).split('\n').filter((l) => l.includes(`-> ${dst}:`))

beforeAll(async () => {
  lab = await startCensorLab()
  for (const rung of ['C3', 'C5'] as const) {
    censors[rung] = await lab.startIn(
      lab.topo.ns.router,
      'node',
      ['--import', 'tsx', join(repoRoot, 'lab', 'netns', 'censor-process.ts'), '--listen', `${lab.topo.addr.routerClientSide}:${censorPort[rung]}`, '--rung', rung, '--block', 'blocked.example', '--action', 'rst'],
      /listening/,
      censorPort[rung],
    )
  }
}, 90_000)

afterAll(async () => {
  await lab?.stop()
})

const expected: Record<'C3' | 'C5', Record<Exclude<Strategy, 'direct'>, 'page' | 'blocked'>> = {
  C3: { 'tcp-split': 'blocked', 'record-split': 'page', 'oob-relay': 'page' },
  C5: { 'tcp-split': 'blocked', 'record-split': 'blocked', 'oob-relay': 'page' },
}

for (const rung of ['C3', 'C5'] as const) {
  describe(`${rung} (rst) as a transparent middlebox on the router`, () => {
    it('direct: blocked.example is reset, allowed.example passes (control)', async () => {
      route(rung)
      const mark = censors[rung]!.output().length
      const ok = await lab.viaProxy('direct', 'https://allowed.example/')
      expect(ok.stderr).toBe('')
      expect(ok.stdout.toString()).toContain(lab.marker.allowed)
      const blocked = await lab.viaProxy('direct', 'https://blocked.example/', 10)
      expect(blocked.code).not.toBe(0)
      expect(blocked.stdout.toString()).not.toContain(lab.marker.blocked)
      const d = decisions(rung, mark)
      expect(d.some((l) => /: allow \(SNI not listed\)/.test(l)), d.join('\n')).toBe(true)
      expect(d.some((l) => /: block \(.*blocked\.example/.test(l)), d.join('\n')).toBe(true)
    }, 30_000)

    for (const s of ['tcp-split', 'record-split', 'oob-relay'] as const) {
      const want = expected[rung][s]
      it(`${s}: ${want === 'page' ? 'returns the page' : 'is reset'}`, async () => {
        route(rung)
        const mark = censors[rung]!.output().length
        const r = await lab.viaProxy(s, 'https://blocked.example/', 10)
        // oob-relay's only flow through the censor is the channel to the helper.
        const d = decisions(rung, mark, s === 'oob-relay' ? `${lab.topo.addr.helper}:8443` : undefined)
        if (want === 'page') {
          expect(r.stderr).toBe('')
          expect(r.stdout.toString()).toContain(lab.marker.blocked)
          expect(d.length, 'the censor saw the flow').toBeGreaterThan(0)
          expect(d.every((l) => /: allow \(/.test(l)), d.join('\n')).toBe(true)
        } else {
          expect(r.code).not.toBe(0)
          expect(r.stdout.toString()).not.toContain(lab.marker.blocked)
          expect(d.some((l) => /: block \(.*blocked\.example/.test(l)), d.join('\n')).toBe(true)
        }
      }, 30_000)
    }
  })
}

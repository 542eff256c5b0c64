// C1 live: an on-path censor that is one iptables rule on a real router namespace
// (`-m string --algo bm --string blocked.example`, per-packet, no reassembly — notes §10), with
// real `sultry proxy` / `sultry oob-server` processes, nginx and curl in their own namespaces.
// direct is blocked (and the rule's counter proves the censor saw the SNI); tcp-split,
// record-split and oob-relay fetch the page with the rule's counter still at zero.

import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../peers/process.js'
import { bigSize, type CensorLab, proxyPort, startCensorLab } from './censor-lab.js'

let lab: CensorLab

/**
 * Installs C1 on the router's client-side interface, replacing any previous rule, counters at 0.
 * First it destroys the client's leftover sockets to the origin: a ClientHello that an earlier
 * DROP swallowed is still being retransmitted by the kernel (backoff up to many seconds after the
 * proxy closed it), and would land on the new rule's counter.
 */
function censor(action: 'DROP' | 'REJECT'): void {
  lab.forgetClientFlows()
  const { topo } = lab
  topo.exec(topo.ns.router, 'iptables', ['-F', 'FORWARD'])
  const target = action === 'DROP' ? ['-j', 'DROP'] : ['-j', 'REJECT', '--reject-with', 'tcp-reset']
  topo.exec(topo.ns.router, 'iptables', ['-A', 'FORWARD', '-i', topo.clientSideDev, '-p', 'tcp', '-m', 'string', '--algo', 'bm', '--string', 'blocked.example', ...target])
}

/** Packets the C1 rule has matched since it was installed. */
function censorHits(): number {
  const out = lab.topo.exec(lab.topo.ns.router, 'iptables', ['-L', 'FORWARD', '-v', '-n', '-x', '--line-numbers'])
  const line = out.split('\n').find((l) => /^1\s/.test(l) && /STRING match/.test(l))
  if (!line) throw new Error(`C1 rule not installed:\n${out}`)
  return Number(line.trim().split(/\s+/)[1])
}

beforeAll(async () => {
  lab = await startCensorLab()
}, 90_000)

afterAll(async () => {
  await lab?.stop()
})

for (const action of ['DROP', 'REJECT'] as const) {
  describe(`C1 iptables -m string on the router, -j ${action}${action === 'REJECT' ? ' --reject-with tcp-reset' : ''}`, () => {
    it('direct: blocked.example fails and the rule matched its ClientHello; allowed.example passes (control)', async () => {
      censor(action)
      const ok = await lab.viaProxy('direct', 'https://allowed.example/')
      expect(ok.stderr).toBe('')
      expect(ok.stdout.toString()).toContain(lab.marker.allowed)
      expect(censorHits()).toBe(0)
      const blocked = await lab.viaProxy('direct', 'https://blocked.example/', 5)
      expect(blocked.code).not.toBe(0)
      expect(blocked.stdout.toString()).not.toContain(lab.marker.blocked)
      expect(censorHits()).toBeGreaterThan(0)
    }, 30_000)

    for (const s of ['tcp-split', 'record-split', 'oob-relay'] as const) {
      it(`${s}: returns the blocked.example page, and the rule never matched`, async () => {
        censor(action)
        const r = await lab.viaProxy(s, 'https://blocked.example/')
        expect(r.stderr).toBe('')
        expect(r.stdout.toString()).toContain(lab.marker.blocked)
        expect(censorHits()).toBe(0)
      }, 30_000)
    }
  })
}

describe('C1 (DROP) with bigger and realer clients', () => {
  it('a 50 MB file through oob-relay arrives with the same sha256', async () => {
    censor('DROP')
    const r = await lab.viaProxy('oob-relay', 'https://blocked.example/big.bin', 60)
    expect(r.stderr).toBe('')
    expect(r.stdout.length).toBe(bigSize)
    expect(createHash('sha256').update(r.stdout).digest('hex')).toBe(lab.bigSha)
    expect(censorHits()).toBe(0)
  }, 70_000)

  it('headless Chromium in the client namespace loads blocked.example through the proxy with oob-relay', async () => {
    censor('DROP')
    const profile = tempDir('sultry-netns-chromium-')
    const { stdout: dom, stderr } = await lab.runIn(lab.topo.ns.client, 'chromium', [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`, `--proxy-server=http://127.0.0.1:${proxyPort['oob-relay']}`, `--ignore-certificate-errors-spki-list=${lab.spki}`, '--dump-dom', 'https://blocked.example:8443/',
    ], 50_000)
    rmSync(profile, { recursive: true, force: true })
    expect(dom, stderr.slice(-2000)).toContain(lab.marker.blocked)
    expect(censorHits()).toBe(0)
  }, 60_000)
})

// The actions every rung shares (drop, RST, throttle) and the IP blocklist, through the middlebox
// hook: what each end of the connection sees.

import { describe, expect, it } from 'vitest'
import type { Conn } from '../../world.js'
import { StringMatchCensor } from './c1-string-match.js'
import { FullReassemblyCensor } from './c5-full-reassembly.js'
import { censoredLab, race, settle, SITES, tlsThrough, whole } from './testkit.js'

const blocklist = { names: ['blocked.example'] }

describe('censor actions', () => {
  it('rst: both ends get ECONNRESET, and the server never sees the hello', async () => {
    const censor = new FullReassemblyCensor({ blocklist, action: { kind: 'rst' } })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', whole))).toBe('ECONNRESET')
    await lab.net.run({ until: () => lab.serverOutcomes.get('blocked.example')!.length > 0, maxVirtualMs: 60_000 })
    expect(lab.serverOutcomes.get('blocked.example')![0]).toMatch(/ECONNRESET/)
    expect(lab.received.get('blocked.example')).toBe(0)
    expect(await settle(lab, tlsThrough(lab, 'allowed.example', whole))).toBe('ok')
  })

  it('drop: the client hears nothing and times out; the server gives up on its own deadline', async () => {
    const censor = new FullReassemblyCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', whole, 10_000))).toBe('timeout')
    await lab.net.run({ until: () => lab.serverOutcomes.get('blocked.example')!.length > 0, maxVirtualMs: 60_000 })
    expect(lab.serverOutcomes.get('blocked.example')![0]).toMatch(/ETIMEDOUT: TLS handshake not completed/)
  })

  it('throttle: a blocked flow carries exactly afterBytes bytes in total, then freezes', async () => {
    const afterBytes = 3000
    const censor = new StringMatchCensor({ blocklist, action: { kind: 'throttle', afterBytes } })
    const lab = await censoredLab(censor)
    const world = lab.client.world
    let got = 0
    const p = (async () => {
      const conn = await world.net.connect(SITES['blocked.example'].address, 80)
      conn.on('data', () => {})
      // 1000 bytes naming the site, then 10 × 1000 more: the flow freezes inside the fourth write.
      const chunk = Buffer.alloc(1000, 0x61)
      chunk.write('blocked.example', 100)
      for (let i = 0; i < 11; i++) conn.write(i === 0 ? chunk : Buffer.alloc(1000, 0x62))
      await new Promise<void>((r) => world.setTimer(2000, r))
      got = lab.received.get('blocked.example')!
      conn.destroy()
      return 'done'
    })()
    await settle(lab, race(world, p, 10_000))
    expect(got).toBe(afterBytes)
    expect(censor.events.map((e) => e.reason)).toEqual(['segment contains "blocked.example"'])
  })

  it('IP blocklist: drop makes connect time out, rst makes it fail with ECONNRESET', async () => {
    for (const [kind, expected] of [
      ['drop', 'ETIMEDOUT'],
      ['rst', 'ECONNRESET'],
    ] as const) {
      const censor = new FullReassemblyCensor({ blocklist: { ips: [SITES['allowed.example'].address] }, action: { kind } })
      const lab = await censoredLab(censor)
      const world = lab.client.world
      const p = world.net.connect(SITES['allowed.example'].address, 443).then(
        (c: Conn) => {
          c.destroy()
          return 'connected'
        },
        (e: Error & { code?: string }) => e.code ?? e.message,
      )
      expect(await settle(lab, p)).toBe(expected)
      expect(censor.events[0]?.reason).toBe('destination 10.0.1.3 listed')
      expect(await settle(lab, tlsThrough(lab, 'blocked.example', whole))).toBe('ok')
    }
  })

  it('forgets flows that closed: the table holds only live flows, and is bounded', async () => {
    const censor = new FullReassemblyCensor({ blocklist, maxFlows: 2 })
    const lab = await censoredLab(censor)
    for (let i = 0; i < 3; i++) expect(await settle(lab, tlsThrough(lab, 'allowed.example', whole))).toBe('ok')
    await lab.net.run({ until: () => censor.trackedFlows === 0, maxVirtualMs: 60_000 })
    expect(censor.trackedFlows).toBe(0)
    expect(censor.stats.flows).toBe(3)
  })
})

import { describe, expect, it } from 'vitest'
import { StringMatchCensor } from './c1-string-match.js'
import { censoredLab, recordSplitInName, settle, tcpSplitInName, tlsThrough, whole } from './testkit.js'

const blocklist = { names: ['blocked.example'] }

describe('C1 per-segment string match', () => {
  it('blocks direct TLS to a listed name and lets an unlisted name through', async () => {
    const censor = new StringMatchCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', whole))).toBe('timeout')
    expect(await settle(lab, tlsThrough(lab, 'allowed.example', whole))).toBe('ok')
    expect(censor.events.map((e) => [e.decision, e.reason])).toEqual([['block', 'segment contains "blocked.example"']])
    // Dropped from the hello on: the server never got a byte.
    expect(lab.received.get('blocked.example')).toBe(0)
  })

  it('is beaten by a TCP split inside the name (no reassembly)', async () => {
    const censor = new StringMatchCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', tcpSplitInName('blocked.example')))).toBe('ok')
    expect(censor.stats.blocked).toBe(0)
  })

  it('is beaten by a record split inside the name (the header lands inside it)', async () => {
    const censor = new StringMatchCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', recordSplitInName('blocked.example')))).toBe('ok')
  })

  it('matches case-sensitively unless icase, like iptables', async () => {
    const upper = new StringMatchCensor({ blocklist: { names: ['BLOCKED.example'] } })
    const lab = await censoredLab(upper)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', whole))).toBe('ok')
    const icase = new StringMatchCensor({ blocklist: { names: ['BLOCKED.example'] }, icase: true })
    const lab2 = await censoredLab(icase)
    expect(await settle(lab2, tlsThrough(lab2, 'blocked.example', whole))).toBe('timeout')
  })
})

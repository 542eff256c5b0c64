import { describe, expect, it } from 'vitest'
import { FailClosedCensor } from './c4-fail-closed.js'
import { censoredLab, rawProbe, rawHello, recordSplitInName, settle, tcpSplitInName, tlsThrough, whole } from './testkit.js'

const blocklist = { names: ['blocked.example'] }

describe('C4 first record, fail-closed', () => {
  it('blocks direct TLS to a listed name and lets an unlisted name through', async () => {
    const censor = new FailClosedCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', whole))).toBe('timeout')
    expect(await settle(lab, tlsThrough(lab, 'allowed.example', whole))).toBe('ok')
  })

  it('beats both splits, and blocks fragmented hellos whatever their name', async () => {
    const censor = new FailClosedCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', tcpSplitInName('blocked.example')))).toBe('timeout')
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', recordSplitInName('blocked.example')))).toBe('timeout')
    expect(await settle(lab, tlsThrough(lab, 'allowed.example', tcpSplitInName('allowed.example')))).toBe('timeout')
    expect(censor.events.map((e) => e.reason)).toEqual([
      'fragmented ClientHello (2 segments)',
      'ClientHello continues past the first record',
      'fragmented ClientHello (2 segments)',
    ])
  })

  it('blocks a ClientHello without SNI', async () => {
    const censor = new FailClosedCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await rawProbe(lab, 'allowed.example', 80, rawHello({}))).toBe(0)
    expect(await rawProbe(lab, 'allowed.example', 80, rawHello({ sni: 'allowed.example' }))).toBeGreaterThan(0)
    expect(censor.events.map((e) => e.reason)).toEqual(['ClientHello without SNI', 'SNI not listed'])
  })
})

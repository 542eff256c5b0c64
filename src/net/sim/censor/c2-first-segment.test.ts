import { describe, expect, it } from 'vitest'
import { FirstSegmentCensor } from './c2-first-segment.js'
import { censoredLab, recordSplitInName, settle, tcpSplitInName, tlsThrough, whole } from './testkit.js'

const blocklist = { names: ['blocked.example'] }

describe('C2 first data segment only', () => {
  it('blocks direct TLS to a listed name and lets an unlisted name through', async () => {
    const censor = new FirstSegmentCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', whole))).toBe('timeout')
    expect(await settle(lab, tlsThrough(lab, 'allowed.example', whole))).toBe('ok')
    expect(censor.events.map((e) => e.reason)).toEqual(['SNI blocked.example matches blocked.example', 'SNI not listed'])
  })

  it('fails open on a TCP split before the SNI ends', async () => {
    const censor = new FirstSegmentCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', tcpSplitInName('blocked.example', 14)))).toBe('ok')
    expect(censor.events).toMatchObject([{ decision: 'allow', failOpen: true, reason: 'ClientHello record cut at the segment end' }])
  })

  it('fails open on a record split (the hello continues past the first record)', async () => {
    const censor = new FirstSegmentCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', recordSplitInName('blocked.example')))).toBe('ok')
    expect(censor.events).toMatchObject([{ decision: 'allow', failOpen: true, reason: 'ClientHello hello cut at the segment end' }])
  })
})

import { describe, expect, it } from 'vitest'
import { FirstRecordCensor } from './c3-first-record.js'
import { censoredLab, recordSplitInName, settle, tcpSplitInName, tlsThrough, whole } from './testkit.js'

const blocklist = { names: ['blocked.example'] }

describe('C3 TCP reassembly + first record only', () => {
  it('blocks direct TLS to a listed name and lets an unlisted name through', async () => {
    const censor = new FirstRecordCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', whole))).toBe('timeout')
    expect(await settle(lab, tlsThrough(lab, 'allowed.example', whole))).toBe('ok')
  })

  it('is not beaten by a TCP split: it reassembles the record', async () => {
    const censor = new FirstRecordCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', tcpSplitInName('blocked.example')))).toBe('timeout')
    expect(censor.events.map((e) => e.reason)).toEqual(['SNI blocked.example matches blocked.example'])
  })

  it('is beaten by a record split (fails open when the hello continues past the first record)', async () => {
    const censor = new FirstRecordCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', recordSplitInName('blocked.example')))).toBe('ok')
    expect(censor.events).toMatchObject([{ decision: 'allow', failOpen: true }])
  })

  it('gives up (fails open) when the pieces are further apart than its reassembly timeout', async () => {
    const censor = new FirstRecordCensor({ blocklist, reassembly: { timeoutMs: 5 } })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', tcpSplitInName('blocked.example')))).toBe('ok')
    expect(censor.events[0]?.reason).toBe('first record incomplete after 5 ms')
  })
})

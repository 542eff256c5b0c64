import { describe, expect, it } from 'vitest'
import { FullReassemblyCensor } from './c5-full-reassembly.js'
import { censoredLab, rawHello, rawProbe, recordSplitInName, settle, tcpSplitInName, tlsThrough, whole } from './testkit.js'

const blocklist = { names: ['blocked.example'] }

describe('C5 full TCP + TLS reassembly', () => {
  it('blocks direct TLS to a listed name and lets an unlisted name through', async () => {
    const censor = new FullReassemblyCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', whole))).toBe('timeout')
    expect(await settle(lab, tlsThrough(lab, 'allowed.example', whole))).toBe('ok')
  })

  it('beats TCP and record splits by reassembling both', async () => {
    const censor = new FullReassemblyCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', tcpSplitInName('blocked.example')))).toBe('timeout')
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', recordSplitInName('blocked.example')))).toBe('timeout')
    expect(censor.events.map((e) => e.reason)).toEqual(['SNI blocked.example matches blocked.example', 'SNI blocked.example matches blocked.example'])
  })

  it('is not fail-closed: split hellos to unlisted names, SNI-less and ECH hellos pass', async () => {
    const censor = new FullReassemblyCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'allowed.example', recordSplitInName('allowed.example')))).toBe('ok')
    expect(await rawProbe(lab, 'allowed.example', 80, rawHello({}))).toBeGreaterThan(0)
    expect(await rawProbe(lab, 'allowed.example', 80, rawHello({ sni: 'allowed.example', ech: true }))).toBeGreaterThan(0)
  })
})

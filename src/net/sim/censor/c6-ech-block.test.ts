import { describe, expect, it } from 'vitest'
import { EchBlockingCensor } from './c6-ech-block.js'
import { censoredLab, rawHello, rawProbe, recordSplitInName, settle, SITES, tcpSplitInName, tlsThrough, whole } from './testkit.js'

const blocklist = { names: ['blocked.example'] }

describe('C6 full reassembly + ECH / unknown-protocol blocking', () => {
  it('blocks direct TLS to a listed name and lets an unlisted name through', async () => {
    const censor = new EchBlockingCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', whole))).toBe('timeout')
    expect(await settle(lab, tlsThrough(lab, 'allowed.example', whole))).toBe('ok')
  })

  it('beats both splits', async () => {
    const censor = new EchBlockingCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', tcpSplitInName('blocked.example')))).toBe('timeout')
    expect(await settle(lab, tlsThrough(lab, 'blocked.example', recordSplitInName('blocked.example')))).toBe('timeout')
  })

  it('blocks ECH-bearing hellos whatever the outer SNI; the same hello without ECH passes', async () => {
    const censor = new EchBlockingCensor({ blocklist })
    const lab = await censoredLab(censor)
    expect(await rawProbe(lab, 'allowed.example', 80, rawHello({ sni: 'allowed.example', ech: true }))).toBe(0)
    expect(await rawProbe(lab, 'allowed.example', 80, rawHello({ sni: 'allowed.example' }))).toBeGreaterThan(0)
    expect(censor.events.map((e) => e.reason)).toEqual(['ClientHello carries ECH (outer SNI allowed.example)', 'SNI not listed'])
  })

  it("Russia-style ech 'listed': ECH is blocked only with a listed outer SNI", async () => {
    const censor = new EchBlockingCensor({ blocklist: { names: ['blocked.example', 'allowed.example'] }, ech: 'listed' })
    const lab = await censoredLab(censor)
    const unlisted = new EchBlockingCensor({ blocklist, ech: 'listed' })
    const lab2 = await censoredLab(unlisted)
    expect(await rawProbe(lab, 'allowed.example', 80, rawHello({ sni: 'allowed.example', ech: true }))).toBe(0)
    expect(await rawProbe(lab2, 'allowed.example', 80, rawHello({ sni: 'allowed.example', ech: true }))).toBeGreaterThan(0)
  })

  it('blocks a non-TLS flow to a strict address, not elsewhere', async () => {
    const censor = new EchBlockingCensor({ blocklist, strictIps: [SITES['allowed.example'].address] })
    const lab = await censoredLab(censor)
    const http = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    expect(await rawProbe(lab, 'allowed.example', 80, http)).toBe(0)
    expect(await rawProbe(lab, 'blocked.example', 80, http)).toBe(http.length)
    expect(censor.events[0]?.reason).toMatch(/^unknown protocol to 10\.0\.1\.3/)
  })
})

// WebTunnel against the censor ladder in the simulator (lab/webtunnel/sim.ts).

import { describe, expect, it } from 'vitest'
import { RUNGS } from '../../src/net/sim/censor/index.js'
import { FRONT, runWebTunnelSim } from './sim.js'

describe('WebTunnel in the simulated network', () => {
  it('works with no censor, and the same seed gives the same trace', async () => {
    const a = await runWebTunnelSim(7)
    expect(a.ok, a.detail).toBe(true)
    const b = await runWebTunnelSim(7)
    expect(b.traceHash).toBe(a.traceHash)
  }, 60_000)

  it.each(RUNGS)('%s: passes when the blocklist does not name the front, blocked when it does', async (rung) => {
    const pass = await runWebTunnelSim(11, { rung, blocklist: { names: ['blocked.example'] } })
    expect(pass.ok, pass.detail).toBe(true)
    const blocked = await runWebTunnelSim(11, { rung, blocklist: { names: [FRONT.name] } })
    expect(blocked.ok, blocked.detail).toBe(false)
    // Blocked by the censor (drop: the outer handshake never completes), not by some other failure.
    expect(blocked.detail).toMatch(/ETIMEDOUT: WebTunnel: no upgrade/)
  }, 60_000)
})

// Path rules on a synthetic directory: exit by port policy, no relay twice, declared families and
// /16 neighbours kept apart (unless the network is a test network), weights follow bandwidth.

import { describe, expect, it } from 'vitest'
import type { World } from '../../net/world.js'
import type { NetRelay } from '../dir/directory.js'
import { PathError, chooseExit, choosePath } from './path.js'

let seed = 12345
const world: World = {
  now: () => 0,
  setTimer: () => ({ cancel() {} }),
  random: (n) => Uint8Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0), seed >>> 24)),
  net: { connect: () => Promise.reject(new Error('none')), listen: () => Promise.reject(new Error('none')) },
  trace() {},
}

function relay(n: number, address: string, flags: string[], opts: { exitPorts?: [number, number]; family?: string[]; bw?: number } = {}): NetRelay {
  const rsaId = new Uint8Array(20).fill(n)
  return {
    nickname: `n${n}`,
    rsaId,
    address,
    orPort: 9001,
    dirPort: 0,
    microdescDigest: `d${n}`,
    flags: new Set(['Running', 'Valid', ...flags]),
    bandwidth: opts.bw ?? 1000,
    unmeasured: false,
    protocols: new Map(),
    md: {
      digest: `d${n}`,
      ntorOnionKey: new Uint8Array(32),
      family: opts.family ?? [],
      familyIds: [],
      policy: opts.exitPorts ? { accept: true, ranges: [{ lo: opts.exitPorts[0], hi: opts.exitPorts[1] }] } : { accept: false, ranges: [{ lo: 1, hi: 65535 }] },
    },
  }
}
const hexId = (n: number) => '$' + Buffer.from(new Uint8Array(20).fill(n)).toString('hex').toUpperCase()

describe('path selection', () => {
  it('picks an exit whose policy summary accepts the port', () => {
    const relays = [relay(1, '10.0.0.1', ['Exit'], { exitPorts: [80, 80] }), relay(2, '10.1.0.1', ['Exit'], { exitPorts: [443, 443] }), relay(3, '10.2.0.1', ['Guard'])]
    for (let i = 0; i < 50; i++) expect(chooseExit(world, relays, 443, new Map()).nickname).toBe('n2')
    expect(() => chooseExit(world, relays, 22, new Map())).toThrow(PathError)
  })

  it('never uses a relay twice, nor two of one family, nor (by default) two in one /16', () => {
    const relays = [
      relay(1, '10.0.0.1', ['Exit'], { exitPorts: [1, 65535], family: [hexId(2)] }),
      relay(2, '10.1.0.1', ['Guard'], { family: [hexId(1)] }), // mutual family with the exit
      relay(3, '10.0.5.5', ['Guard']), // same /16 as the exit
      relay(4, '10.2.0.1', ['Guard']),
      relay(5, '10.3.0.1', []),
    ]
    for (let i = 0; i < 100; i++) {
      const p = choosePath(world, relays, relays[0], new Map(), {})
      expect(new Set(p.map((r) => r.nickname)).size).toBe(3)
      expect(p[0].nickname).toBe('n4')
      expect(p[1].nickname).toBe('n5')
    }
    // Test-network rules: the /16 neighbour becomes usable.
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) seen.add(choosePath(world, relays, relays[0], new Map(), { enforceDistinctSubnets: false })[0].nickname)
    expect(seen).toEqual(new Set(['n3', 'n4']))
  })

  it('weights by bandwidth', () => {
    const relays = [relay(1, '10.0.0.1', ['Exit'], { exitPorts: [1, 65535], bw: 9000 }), relay(2, '10.1.0.1', ['Exit'], { exitPorts: [1, 65535], bw: 1000 })]
    let heavy = 0
    for (let i = 0; i < 2000; i++) if (chooseExit(world, relays, 80, new Map()).nickname === 'n1') heavy++
    expect(heavy / 2000).toBeGreaterThan(0.85)
    expect(heavy / 2000).toBeLessThan(0.95)
  })
})

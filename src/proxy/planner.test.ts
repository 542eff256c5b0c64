import { describe, expect, it } from 'vitest'
import type { World } from '../net/world.js'
import { Planner } from './planner.js'
import { strategies } from './strategies/index.js'
import { VerdictStore } from './verdict-store.js'

function clockWorld(): World & { t: number } {
  const w = {
    t: 1000,
    now: () => w.t,
    setTimer: () => ({ cancel() {} }),
    random: (n: number) => new Uint8Array(n),
    net: { connect: () => Promise.reject(new Error('no net')), listen: () => Promise.reject(new Error('no net')) },
    trace() {},
  }
  return w
}

describe('Planner.candidates and VerdictStore TTLs (World clock)', () => {
  it('orders cheapest first, puts a remembered winner first, skips remembered blocks until they expire', () => {
    const world = clockWorld()
    const store = new VerdictStore()
    const p = new Planner({ world, store, strategies: strategies(), available: ['direct', 'tcp-split', 'record-split', 'oob-relay'], ttlMs: 60_000 })
    expect(p.candidates('a.example')).toEqual(['direct', 'tcp-split', 'record-split', 'oob-relay'])
    store.recordBlocked('a.example', 'direct', 'reset', world.now(), 60_000)
    store.recordBlocked('a.example', 'tcp-split', 'timeout', world.now(), 60_000)
    store.recordWorks('a.example', 'record-split', world.now(), 60_000)
    expect(p.candidates('A.EXAMPLE')).toEqual(['record-split', 'oob-relay'])
    world.t += 60_001
    expect(p.candidates('a.example')).toEqual(['direct', 'tcp-split', 'record-split', 'oob-relay'])
  })

  it('tries everything again when every strategy is remembered as blocked', () => {
    const world = clockWorld()
    const store = new VerdictStore()
    const p = new Planner({ world, store, strategies: strategies(), available: ['direct', 'tcp-split'] })
    store.recordBlocked('b.example', 'direct', 'reset', world.now(), 1000)
    store.recordBlocked('b.example', 'tcp-split', 'reset', world.now(), 1000)
    expect(p.candidates('b.example')).toEqual(['direct', 'tcp-split'])
  })

  it('state survives a JSON round trip; damaged entries are dropped, not fatal', () => {
    let saved = ''
    const a = new VerdictStore((j) => (saved = j))
    a.recordWorks('c.example', 'oob-relay', 5, 100)
    const b = new VerdictStore(undefined, saved)
    expect(b.get('c.example', 50).works?.strategy).toBe('oob-relay')
    expect(b.get('c.example', 105).works).toBeUndefined()
    const c = new VerdictStore(undefined, '{"version":1,"hosts":{"d":{"works":{"strategy":"teleport","at":1,"expires":9}},"e":null}}')
    expect(c.get('d', 2).works).toBeUndefined()
    expect(() => new VerdictStore(undefined, 'not json')).not.toThrow()
  })

  it('a throttle verdict sends the next connection to the most capable strategy left, cheaper ones as fallbacks; a remembered winner still goes first', () => {
    const world = clockWorld()
    const store = new VerdictStore()
    const logs: string[] = []
    const p = new Planner({ world, store, strategies: strategies(), available: ['direct', 'tcp-split', 'record-split', 'oob-relay'], ttlMs: 60_000, log: (l) => logs.push(l) })
    p.noteStall('t.example', 'direct', { kind: 'mid-record', down: 15_671, up: 80, silentMs: 4000, downMs: 114, longestWaitMs: 6 })
    expect(store.get('t.example', world.now()).blocked.direct?.reason).toBe('throttled')
    expect(p.candidates('t.example')).toEqual(['oob-relay', 'tcp-split', 'record-split'])
    expect(logs.join('\n')).toMatch(/t\.example: throttled on direct: the server stopped inside a TLS record after 15671 B down .* next connection tries oob-relay first/)
    store.recordWorks('t.example', 'oob-relay', world.now(), 60_000)
    expect(p.candidates('t.example')[0]).toBe('oob-relay')
    // Another host is not affected; and a block that is not a freeze keeps the cheapest-first order.
    expect(p.candidates('u.example')).toEqual(['direct', 'tcp-split', 'record-split', 'oob-relay'])
    store.recordBlocked('v.example', 'direct', 'reset', world.now(), 60_000)
    expect(p.candidates('v.example')).toEqual(['tcp-split', 'record-split', 'oob-relay'])
    world.t += 60_001
    expect(p.candidates('t.example')).toEqual(['direct', 'tcp-split', 'record-split', 'oob-relay'])
  })

  it('a stall that resumes takes its throttle verdict back, and only that kind of verdict', () => {
    const world = clockWorld()
    const store = new VerdictStore()
    const p = new Planner({ world, store, strategies: strategies(), available: ['direct', 'tcp-split'] })
    p.noteStall('r.example', 'direct', { kind: 'unanswered', down: 3000, up: 400, silentMs: 8000, downMs: 50, longestWaitMs: 0 })
    p.noteResumed('r.example', 'direct', 1500)
    expect(store.get('r.example', world.now()).blocked).toEqual({})
    store.recordBlocked('r.example', 'direct', 'reset', world.now(), 1000)
    p.noteResumed('r.example', 'direct', 1500)
    expect(store.get('r.example', world.now()).blocked.direct?.reason).toBe('reset')
  })
})

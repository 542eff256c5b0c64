// The planner's verdicts with scripted upstreams: what each strategy's upstream answers decides
// what is tried next and what is remembered.

import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { liveWorld } from '../net/live/world.js'
import type { Conn } from '../net/world.js'
import { NetError } from '../net/world.js'
import { Planner } from './planner.js'
import { strategies } from './strategies/index.js'
import type { Strategy, StrategyContext, StrategyName } from './strategy.js'
import { VerdictStore } from './verdict-store.js'

const serverHello = Buffer.from([22, 3, 3, 0, 4, 2, 0, 0, 0])
const alert = Buffer.from([21, 3, 3, 0, 2, 2, 40]) // fatal handshake_failure

function scripted(name: StrategyName, behaviour: 'server-hello' | 'alert' | 'reset' | 'silent' | 'refused'): Strategy {
  return {
    name,
    async connect() {
      if (behaviour === 'refused') throw new NetError('ECONNREFUSED', 'scripted')
      const c = new PassThrough() as unknown as Conn
      setImmediate(() => {
        if (behaviour === 'server-hello') c.push(serverHello)
        if (behaviour === 'alert') c.push(alert)
        if (behaviour === 'reset') c.destroy(new NetError('ECONNRESET', 'scripted reset'))
      })
      return c
    },
  }
}

function ctx(): StrategyContext {
  return { world: liveWorld(), target: { host: 'site.example', port: 443 }, firstFlight: new Uint8Array([22]), hello: undefined, client: new PassThrough() as unknown as Conn, resolve: async () => '192.0.2.1', oob: undefined }
}

describe('Planner verdicts', () => {
  it('reset → next; an alert counts as blocking only when a later strategy succeeds; server bytes are kept', async () => {
    const store = new VerdictStore()
    const logs: string[] = []
    const all = { ...strategies(), direct: scripted('direct', 'reset'), 'tcp-split': scripted('tcp-split', 'alert'), 'record-split': scripted('record-split', 'server-hello') }
    const p = new Planner({ world: liveWorld(), store, strategies: all, available: ['direct', 'tcp-split', 'record-split'], log: (l) => logs.push(l) })
    const r = await p.run(ctx(), true)
    expect(r.ok && r.strategy).toBe('record-split')
    expect(r.ok && Buffer.concat(r.serverBytes).equals(serverHello)).toBe(true)
    expect(r.attempts.map((a) => `${a.strategy}:${a.reason ?? 'ok'}`)).toEqual(['direct:reset', 'tcp-split:alert', 'record-split:ok'])
    const v = store.get('site.example', Date.now())
    expect(v.works?.strategy).toBe('record-split')
    expect(v.blocked.direct?.reason).toBe('reset')
    expect(v.blocked['tcp-split']?.reason).toBe('alert')
    expect(logs.join('\n')).toMatch(/record-split works .*before it: direct reset .*tcp-split alert \(alert handshake_failure\)/)
  })

  it('an alert from every strategy is the site talking: nothing is remembered as blocked', async () => {
    const store = new VerdictStore()
    const all = { ...strategies(), direct: scripted('direct', 'alert'), 'tcp-split': scripted('tcp-split', 'alert') }
    const p = new Planner({ world: liveWorld(), store, strategies: all, available: ['direct', 'tcp-split'] })
    const r = await p.run(ctx(), true)
    expect(r.ok).toBe(false)
    expect(store.get('site.example', Date.now()).blocked).toEqual({})
  })

  it('silence past the bound is a timeout; a refused connect is connect-failed', async () => {
    const store = new VerdictStore()
    const all = { ...strategies(), direct: scripted('direct', 'silent'), 'tcp-split': scripted('tcp-split', 'refused'), 'record-split': scripted('record-split', 'server-hello') }
    const p = new Planner({ world: liveWorld(), store, strategies: all, available: ['direct', 'tcp-split', 'record-split'], attemptTimeoutMs: 100 })
    const r = await p.run(ctx(), true)
    expect(r.attempts.map((a) => `${a.strategy}:${a.reason ?? 'ok'}`)).toEqual(['direct:timeout', 'tcp-split:connect-failed', 'record-split:ok'])
  })
})

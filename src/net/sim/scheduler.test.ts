import { describe, expect, it } from 'vitest'
import { Scheduler, SimStall, SimTimeout } from './scheduler.js'
import { SimNetwork } from './network.js'

describe('Scheduler', () => {
  it('runs tasks in virtual-time order and jumps the clock to each', async () => {
    const s = new Scheduler()
    const seen: string[] = []
    s.at(30, 'c', () => seen.push(`c@${s.now()}`))
    s.at(10, 'a', () => seen.push(`a@${s.now()}`))
    s.at(20, 'b', () => seen.push(`b@${s.now()}`))
    await s.run()
    expect(seen).toEqual(['a@10', 'b@20', 'c@30'])
    expect(s.now()).toBe(30)
  })

  it('orders same-time tasks FIFO under queue and LIFO under stack', async () => {
    for (const [policy, want] of [
      ['queue', ['1', '2', '3']],
      ['stack', ['3', '2', '1']],
    ] as const) {
      const s = new Scheduler(policy)
      const seen: string[] = []
      for (const n of ['1', '2', '3']) s.at(5, n, () => seen.push(n))
      await s.run()
      expect(seen).toEqual(want)
    }
  })

  it('does not run cancelled tasks', async () => {
    const s = new Scheduler()
    const seen: number[] = []
    const t = s.at(5, 'x', () => seen.push(5))
    s.at(6, 'y', () => seen.push(6))
    t.cancel()
    await s.run()
    expect(seen).toEqual([6])
  })

  it('lets Node (promises, nextTick, setImmediate) finish before moving virtual time', async () => {
    const s = new Scheduler()
    const seen: string[] = []
    s.at(10, 'start', () => {
      // Work that only continues after the real event loop turns, yet happens "at" t=10.
      void Promise.resolve().then(() =>
        process.nextTick(() => setImmediate(() => s.at(s.now(), 'late', () => seen.push(`late@${s.now()}`)))),
      )
    })
    s.at(20, 'next', () => seen.push(`next@${s.now()}`))
    await s.run()
    expect(seen).toEqual(['late@10', 'next@20'])
  })

  it('stops when `until` settles', async () => {
    const s = new Scheduler()
    let resolve!: () => void
    const p = new Promise<void>((r) => (resolve = r))
    const seen: number[] = []
    s.at(1, 'a', () => {
      seen.push(1)
      resolve()
    })
    s.at(100, 'b', () => seen.push(100))
    await s.run({ until: p })
    expect(seen).toEqual([1])
    expect(s.now()).toBe(1)
  })

  it('reports a stall with the registered waiter instead of hanging', async () => {
    const s = new Scheduler()
    s.waiter('client waits for the echo')
    const err = await s.run({ until: new Promise(() => {}) }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SimStall)
    expect((err as SimStall).waiting).toContain('waiter: client waits for the echo')
    expect((err as SimStall).message).toContain('client waits for the echo')
  })

  it('a released waiter is no longer listed', async () => {
    const s = new Scheduler()
    const done = s.waiter('gone')
    s.waiter('still here')
    done()
    const err = (await s.run({ until: () => false }).catch((e: unknown) => e)) as SimStall
    expect(err.waiting).toEqual(['waiter: still here'])
  })

  it('throws SimTimeout instead of running past maxVirtualMs', async () => {
    const s = new Scheduler()
    let ran = false
    s.at(5_000, 'late', () => (ran = true))
    const err = await s.run({ until: () => false, maxVirtualMs: 1_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SimTimeout)
    expect(ran).toBe(false)
  })

  it('stall report lists open connections with their unsent/unread bytes', async () => {
    const net = new SimNetwork({ seed: 1, policy: 'queue' })
    const a = net.addHost('a')
    const b = net.addHost('b')
    net.link('a', 'b', { ab: { latencyMs: 5, jitterMs: 0, bandwidth: 0, windowBytes: 1000 }, ba: { latencyMs: 5, jitterMs: 0 } })
    await b.world.net.listen(80, (conn) => conn.pause()) // never reads
    const reply = (async () => {
      const c = await a.world.net.connect('b', 80)
      c.write(Buffer.alloc(5000)) // fills the 1000-byte window at once
      c.write(Buffer.alloc(3000)) // must wait for a window that never opens
      await new Promise(() => {}) // waits for a reply that never comes
    })()
    const err = (await net.run({ until: reply }).catch((e: unknown) => e)) as SimStall
    expect(err).toBeInstanceOf(SimStall)
    const conn = err.waiting.find((w) => w.startsWith('conn #1 a:'))
    expect(conn).toBeDefined()
    expect(conn).toContain('sent 8000 delivered 5000 in-flight 0 unread 5000')
    expect(conn).toContain('writer blocked on window')
  })
})

describe('sim World timers', () => {
  it('fire at virtual time, in order, and can be cancelled', async () => {
    const net = new SimNetwork({ seed: 3, policy: 'queue' })
    const w = net.addHost('h').world
    const seen: string[] = []
    w.setTimer(250, () => seen.push(`b@${w.now()}`))
    w.setTimer(100, () => seen.push(`a@${w.now()}`))
    const t = w.setTimer(150, () => seen.push('cancelled'))
    t.cancel()
    await net.run()
    expect(seen).toEqual(['a@100', 'b@250'])
  })
})

// The scheduler's ordering contract, for any set of tasks: virtual time never goes backwards, each
// task runs at its own time, and ties run FIFO under 'queue' and LIFO under 'stack' — including
// tasks scheduled by other tasks.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Scheduler, type SchedulingPolicy } from '../src/net/sim/scheduler.js'

const RUNS = process.env.SULTRY_QUICK === '1' ? 100 : 1_000

const plan = fc.array(
  fc.record({ at: fc.integer({ min: 0, max: 20 }), child: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }) }),
  { minLength: 1, maxLength: 40 },
)

describe('Scheduler ordering', () => {
  for (const policy of ['queue', 'stack'] as SchedulingPolicy[]) {
    it(`runs tasks by (time, ${policy === 'queue' ? 'FIFO' : 'LIFO'}) whatever the plan`, async () => {
      await fc.assert(
        fc.asyncProperty(plan, async (tasks) => {
          const s = new Scheduler(policy)
          const ran: { time: number; seq: number; at: number }[] = []
          let seq = 0
          const add = (at: number, child: number | undefined) => {
            const mySeq = seq++
            s.at(at, `t${mySeq}`, () => {
              ran.push({ time: s.now(), seq: mySeq, at })
              if (child !== undefined) add(s.now() + child, undefined)
            })
          }
          for (const t of tasks) add(t.at, t.child)
          await s.run()
          expect(ran.length).toBe(seq)
          for (const r of ran) expect(r.time).toBe(r.at)
          for (let i = 1; i < ran.length; i++) {
            const [p, q] = [ran[i - 1]!, ran[i]!]
            expect(q.time).toBeGreaterThanOrEqual(p.time)
            // FIFO: a tie always runs in scheduling order (a child scheduled for "now" queues last).
            if (policy === 'queue' && q.time === p.time) expect(q.seq).toBeGreaterThan(p.seq)
          }
          if (policy === 'stack') {
            // Tasks scheduled up front at the same time run newest first.
            const upFront = ran.filter((r) => r.seq < tasks.length)
            for (let i = 1; i < upFront.length; i++) {
              if (upFront[i]!.time === upFront[i - 1]!.time) expect(upFront[i]!.seq).toBeLessThan(upFront[i - 1]!.seq)
            }
          }
        }),
        { numRuns: RUNS },
      )
    })
  }
})

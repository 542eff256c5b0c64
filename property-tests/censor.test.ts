// Censors on hostile wires: every rung, every action, fed random and mutated segment streams over
// several interleaved flows (with FIN/RST flags and a small flow table, so eviction runs) never
// throws, only ever answers a well-formed verdict, and holds bounded state: at most maxFlows flows
// and, per flow, at most one maximal TLS record (C3/C4) or one record plus one maximal hello (C5/C6).
// And the reassembling rungs decide the same whatever the segmentation of a valid hello.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Segment, Verdict } from '../src/net/sim/middlebox.js'
import type { FlowInfo } from '../src/net/sim/pipe.js'
import { censorFor, RUNGS, type CensorAction, type Rung } from '../src/net/sim/censor/index.js'
import { rawHello } from '../src/net/sim/censor/testkit.js'
import { MAX_RECORD_LENGTH } from '../src/wire/tls/record.js'

const QUICK = process.env.SULTRY_QUICK === '1'
const RUNS = QUICK ? 300 : 10_000

const MAX_FLOWS = 3
const MAX_HELLO = 64 * 1024
const PER_FLOW_BOUND: Record<Rung, number> = {
  C1: 0,
  C2: 0,
  C3: MAX_RECORD_LENGTH,
  C4: MAX_RECORD_LENGTH,
  C5: MAX_RECORD_LENGTH + MAX_HELLO + 4,
  C6: MAX_RECORD_LENGTH + MAX_HELLO + 4,
}

function flow(id: number): FlowInfo {
  return { id, clientHost: 'c', clientAddress: '10.0.0.1', clientPort: 40000 + id, serverHost: 's', serverAddress: id % 2 ? '10.0.1.2' : '10.0.1.3', serverPort: 443 }
}

// Built once: encoding a hello per case would dominate the run time.
const HELLOS = [undefined, 'blocked.example', 'allowed.example', 'www.blocked.example', 'x.test'].flatMap((sni) => [false, true].map((ech) => rawHello({ sni, ech })))
const validHello = fc.constantFrom(...HELLOS)
/** A valid hello with some bytes overwritten, or plain noise, or a valid one. */
const payload = fc.oneof(
  validHello,
  fc.tuple(validHello, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 })).map(([h, edits]) => {
    const m = h.slice()
    for (const [at, v] of edits) m[at % m.length] = v
    return m
  }),
  fc.uint8Array({ maxLength: 1500, size: 'max' }),
  // A header announcing a 16 KiB record holding one big hello, with little behind it: the buffers fill.
  fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([22, 3, 1, 0x40, 0x00, 1, 0x00, 0xff, 0xfc, ...b])),
)

interface Step {
  flow: number
  fromClient: boolean
  flag: 'fin' | 'rst' | undefined
  bytes: Uint8Array
  dt: number
}

/** A payload cut into segments at random points, spread over flows, with flags mixed in. */
const steps = fc
  .array(
    fc.tuple(payload, fc.array(fc.nat(), { maxLength: 6 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), fc.constantFrom(undefined, undefined, 'fin', 'rst')),
    { minLength: 1, maxLength: 6 },
  )
  .chain((parts) =>
    fc.constant(
      parts.flatMap(([bytes, cuts, f, fromClient, flag]): Step[] => {
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
        const bounds = [0, ...points, bytes.length]
        const out: Step[] = []
        for (let i = 0; i + 1 < bounds.length; i++) out.push({ flow: f, fromClient: fromClient || i === 0, flag: undefined, bytes: bytes.subarray(bounds[i], bounds[i + 1]), dt: 1 })
        if (flag) out.push({ flow: f, fromClient, flag, bytes: new Uint8Array(0), dt: 1 })
        return out
      }),
    ),
  )

const actions: CensorAction[] = [{ kind: 'drop' }, { kind: 'rst' }, { kind: 'throttle', afterBytes: 500 }]

function wellFormed(v: Verdict, seg: Segment): boolean {
  switch (v.kind) {
    case 'pass':
    case 'drop':
      return true
    case 'rst':
      return v.to === 'client' || v.to === 'server' || v.to === 'both'
    case 'truncate':
      return Number.isInteger(v.keep) && v.keep >= 0 && v.keep <= seg.bytes.length
  }
}

describe('censors on random and mutated segment streams', () => {
  for (const rung of RUNGS) {
    it(`${rung}: never throws, verdicts well-formed, state bounded`, () => {
      fc.assert(
        fc.property(steps, fc.constantFrom(...actions), (ss, action) => {
          const c = censorFor(rung, {
            blocklist: { names: ['blocked.example'], suffixes: ['blocked.example'], ips: ['10.0.9.9'] },
            action,
            maxFlows: MAX_FLOWS,
            strictIps: ['10.0.1.3'],
          })
          let time = 0
          for (const s of ss) {
            time += s.dt
            const seg: Segment = { flow: flow(s.flow), fromClient: s.fromClient, bytes: s.bytes, flag: s.flag, time }
            const v = c.segment(seg)
            // Plain checks in the hot loop (expect() per segment costs more than the censor).
            if (!wellFormed(v, seg)) throw new Error(`bad verdict ${JSON.stringify(v)}`)
            if (c.trackedFlows > MAX_FLOWS) throw new Error(`${c.trackedFlows} flows tracked`)
            if (c.buffered > MAX_FLOWS * PER_FLOW_BOUND[rung]) throw new Error(`${c.buffered} bytes buffered`)
          }
        }),
        { numRuns: RUNS },
      )
    })
  }

  it('C5 and C6 decide a valid hello the same however it is segmented', () => {
    fc.assert(
      fc.property(validHello, fc.array(fc.nat(), { maxLength: 12 }), fc.constantFrom<Rung>('C5', 'C6'), (hello, cuts, rung) => {
        const decide = (points: number[]) => {
          const c = censorFor(rung, { blocklist: { names: ['blocked.example'], suffixes: ['blocked.example'] } })
          const bounds = [0, ...points, hello.length]
          for (let i = 0; i + 1 < bounds.length; i++) {
            c.segment({ flow: flow(1), fromClient: true, bytes: hello.subarray(bounds[i], bounds[i + 1]), flag: undefined, time: i })
          }
          return c.events.map((e) => `${e.decision} ${e.reason}`)
        }
        const points = [...new Set(cuts.map((x) => x % hello.length))].filter((x) => x > 0).sort((a, b) => a - b)
        const whole = decide([])
        expect(whole).toHaveLength(1)
        expect(decide(points)).toEqual(whole)
      }),
      { numRuns: RUNS },
    )
  })
})

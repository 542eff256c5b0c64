// The stall watch on streams, with a hand-driven World clock: it hears both directions through
// listeners, keeps one timer at the detector's deadline, and reports a freeze once (and a
// resumption if bytes come after it).

import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { Conn, World } from '../net/world.js'
import { concatBytes } from '../wire/bytes.js'
import { ContentType, encodeRecordHeader } from '../wire/tls/record.js'
import { STALL_DEFAULTS, type Stall } from './stall-detector.js'
import { watchStall } from './stall-watch.js'

function manualWorld() {
  let t = 0
  let timers: { at: number; fn: () => void; live: boolean }[] = []
  const world = {
    now: () => t,
    setTimer(ms: number, fn: () => void) {
      const x = { at: t + ms, fn, live: true }
      timers.push(x)
      return { cancel: () => void (x.live = false) }
    },
    random: (n: number) => new Uint8Array(n),
    net: { connect: () => Promise.reject(new Error('no net')), listen: () => Promise.reject(new Error('no net')) },
    trace() {},
  } as unknown as World
  /** Moves the clock to `to`, firing due timers in order. */
  const advance = (to: number) => {
    for (;;) {
      const due = timers.filter((x) => x.live && x.at <= to).sort((a, b) => a.at - b.at)[0]
      if (!due) break
      due.live = false
      t = due.at
      due.fn()
    }
    t = to
    timers = timers.filter((x) => x.live)
  }
  return { world, advance, pending: () => timers.filter((x) => x.live).length }
}

const app = (len: number) => concatBytes(encodeRecordHeader(ContentType.applicationData, 0x0303, len), new Uint8Array(len))
const tick = () => new Promise((r) => setImmediate(r))

function streams() {
  const client = new PassThrough() as unknown as Conn
  const upstream = new PassThrough() as unknown as Conn
  return { client, upstream }
}

describe('watchStall', () => {
  it('reports a freeze inside a record once, at the deadline, and a resumption when bytes come after it', async () => {
    const { world, advance, pending } = manualWorld()
    const { client, upstream } = streams()
    const stalls: Stall[] = []
    const resumed: number[] = []
    const w = watchStall(world, client, upstream, [app(100)], { tls13: true }, { stalled: (s) => stalls.push(s), resumed: (_s, ms) => resumed.push(ms) })
    advance(100)
    upstream.write(app(16_000).subarray(0, 8000))
    await tick()
    expect(pending()).toBe(1)
    advance(100 + STALL_DEFAULTS.midRecordMs - 1)
    expect(stalls).toEqual([])
    advance(100 + 10 * STALL_DEFAULTS.midRecordMs)
    expect(stalls.map((s) => [s.kind, s.down])).toEqual([['mid-record', 105 + 8000]])
    expect(pending()).toBe(0)
    upstream.write(new Uint8Array(5))
    await tick()
    expect(resumed).toEqual([10 * STALL_DEFAULTS.midRecordMs - STALL_DEFAULTS.midRecordMs])
    expect(w.detector.state).toBe('done')
  })

  it('an idle connection arms no timer; a request arms one; the answer disarms it', async () => {
    const { world, advance, pending } = manualWorld()
    const { client, upstream } = streams()
    const stalls: Stall[] = []
    watchStall(world, client, upstream, [app(100)], { tls13: false }, { stalled: (s) => stalls.push(s) })
    expect(pending()).toBe(0)
    advance(1000)
    client.write(app(300))
    await tick()
    expect(pending()).toBe(1)
    advance(2000)
    upstream.write(app(50))
    await tick()
    advance(3_600_000)
    expect(stalls).toEqual([])
    expect(pending()).toBe(0)
  })

  it('a deadline that moves earlier (a request pending, then a record cut short) replaces the armed timer', async () => {
    const { world, advance } = manualWorld()
    const { client, upstream } = streams()
    const stalls: Stall[] = []
    watchStall(world, client, upstream, [app(100)], { tls13: false }, { stalled: (s) => stalls.push(s) })
    client.write(app(300))
    await tick()
    advance(10)
    upstream.write(app(16_000).subarray(0, 3000))
    await tick()
    advance(10 + STALL_DEFAULTS.midRecordMs)
    expect(stalls.map((s) => s.kind)).toEqual(['mid-record'])
  })

  it('a client with bytes queued towards it is not waiting on the path', async () => {
    const { world, advance } = manualWorld()
    const { client, upstream } = streams()
    Object.defineProperty(client, 'writableLength', { get: () => 1 })
    const stalls: Stall[] = []
    watchStall(world, client, upstream, [app(16_000).subarray(0, 500)], { tls13: true }, { stalled: (s) => stalls.push(s) })
    advance(60_000)
    expect(stalls).toEqual([])
  })

  it('the connection closing ends the watch, timer included', async () => {
    const { world, advance, pending } = manualWorld()
    const { client, upstream } = streams()
    const stalls: Stall[] = []
    const w = watchStall(world, client, upstream, [app(16_000).subarray(0, 500)], { tls13: true }, { stalled: (s) => stalls.push(s) })
    expect(pending()).toBe(1)
    upstream.destroy()
    await tick()
    expect(pending()).toBe(0)
    advance(60_000)
    expect(stalls).toEqual([])
    expect(w.detector.state).toBe('done')
  })
})

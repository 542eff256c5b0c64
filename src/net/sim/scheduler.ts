// The simulator's one scheduler: a min-heap of (virtual time, sequence, task). Virtual time only
// moves when the real event loop is quiescent, because Node's own machinery (stream nextTicks,
// promise continuations, TLSWrap) runs between sim steps and may schedule more sim work at the
// current instant. When nothing is left to run and the awaited condition is not met, run() throws
// a SimStall listing what is waiting instead of hanging.

import { setImmediate as immediate } from 'node:timers/promises'

/** Order of tasks due at the same virtual time: FIFO, or LIFO to expose starvation (arti's MockExecutor). */
export type SchedulingPolicy = 'queue' | 'stack'

export interface SimTask {
  readonly time: number
  readonly label: string
  cancel(): void
}

interface Entry extends SimTask {
  key: number
  fn: () => void
  cancelled: boolean
}

export class SimError extends Error {
  constructor(
    readonly code: 'stall' | 'timeout',
    readonly virtualMs: number,
    readonly waiting: readonly string[],
    detail: string,
  ) {
    super(`${detail} at virtual ${virtualMs} ms; waiting: ${waiting.length ? waiting.join('; ') : '(nothing registered)'}`)
  }
}

/** No sim task is left but the awaited condition is not done: a deadlock, reported with what waits. */
export class SimStall extends SimError {
  override readonly name = 'SimStall'
  constructor(virtualMs: number, waiting: readonly string[]) {
    super('stall', virtualMs, waiting, 'simulation stalled: no task left')
  }
}

/** The next task lies beyond maxVirtualMs. */
export class SimTimeout extends SimError {
  override readonly name = 'SimTimeout'
  constructor(virtualMs: number, waiting: readonly string[], limit: number) {
    super('timeout', virtualMs, waiting, `virtual time limit ${limit} ms reached`)
  }
}

export interface RunOptions {
  /** Stop once this settles (or returns true). Without it, run until no task is left. */
  until?: Promise<unknown> | (() => boolean)
  /** Throw SimTimeout rather than run a task scheduled after this virtual time. */
  maxVirtualMs?: number
}

/** Real event-loop turns with no new sim task that count as "Node has nothing more to do". */
const QUIET_TURNS = 2

export class Scheduler {
  private _now = 0
  private heap: Entry[] = []
  private seq = 0
  private live = 0
  private waiters = new Map<number, string>()
  private nextWaiter = 0
  private describers: (() => string[])[] = []
  /** Tasks run so far (a cheap progress figure). */
  steps = 0

  constructor(readonly policy: SchedulingPolicy = 'queue') {}

  now(): number {
    return this._now
  }

  /** Runs `fn` at virtual time `time` (never earlier than now). */
  at(time: number, label: string, fn: () => void): SimTask {
    const seq = this.seq++
    const e: Entry = {
      time: Math.max(time, this._now),
      key: this.policy === 'queue' ? seq : -seq,
      label,
      fn,
      cancelled: false,
      cancel: () => {
        if (!e.cancelled) {
          e.cancelled = true
          this.live--
        }
      },
    }
    this.push(e)
    this.live++
    return e
  }

  after(ms: number, label: string, fn: () => void): SimTask {
    return this.at(this._now + Math.max(0, ms), label, fn)
  }

  /** Registers something waiting outside the scheduler (for stall reports); call the result when done. */
  waiter(label: string): () => void {
    const id = this.nextWaiter++
    this.waiters.set(id, label)
    return () => {
      this.waiters.delete(id)
    }
  }

  /** Adds a source of "what is waiting" lines (the network lists its open connections). */
  describeWith(fn: () => string[]): void {
    this.describers.push(fn)
  }

  /** What is waiting right now: registered waiters, then every describer's lines. */
  waiting(): string[] {
    const out = [...this.waiters.values()].map((l) => `waiter: ${l}`)
    for (const d of this.describers) out.push(...d())
    return out
  }

  pending(): number {
    return this.live
  }

  async run(opts: RunOptions = {}): Promise<void> {
    const max = opts.maxVirtualMs ?? Infinity
    let settled = false
    let done: () => boolean
    if (typeof opts.until === 'function') done = opts.until
    else if (opts.until) {
      opts.until.then(
        () => (settled = true),
        () => (settled = true),
      )
      done = () => settled
    } else done = () => false

    await this.quiesce()
    for (;;) {
      if (done()) return
      const next = this.peekLive()
      if (!next) {
        if (!opts.until) return
        throw new SimStall(this._now, this.waiting())
      }
      if (next.time > max) throw new SimTimeout(this._now, this.waiting(), max)
      this._now = next.time
      this.runDue()
      await this.quiesce()
    }
  }

  /** Runs every live task due at the current time, including ones scheduled for now while running. */
  private runDue(): void {
    for (;;) {
      const e = this.peekLive()
      if (!e || e.time > this._now) return
      this.pop()
      this.live--
      e.cancelled = true
      this.steps++
      e.fn()
    }
  }

  /** Yields to the real event loop until it stops producing sim work, running any that is due now. */
  private async quiesce(): Promise<void> {
    let quiet = 0
    while (quiet < QUIET_TURNS) {
      const before = this.seq
      await immediate()
      const due = this.peekLive()
      if (due && due.time <= this._now) {
        this.runDue()
        quiet = 0
      } else if (this.seq !== before) quiet = 0
      else quiet++
    }
  }

  private peekLive(): Entry | undefined {
    while (this.heap.length && this.heap[0]!.cancelled) this.pop()
    return this.heap[0]
  }

  private push(e: Entry): void {
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap
    const top = h[0]
    const last = h.pop()
    if (h.length && last) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && less(h[l]!, h[m]!)) m = l
        if (r < h.length && less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.time < b.time || (a.time === b.time && a.key < b.key)
}

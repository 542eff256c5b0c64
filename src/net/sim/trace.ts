// The run's event trace. Each event is one canonical line fed into an incremental SHA-256, so the
// hash costs no memory however long the run; the last few lines are kept for stall reports and
// debugging, and the full list only when asked for (determinism diffs).

import { createHash, type Hash } from 'node:crypto'

export class Trace {
  private hash: Hash = createHash('sha256')
  private recent: string[] = []
  private recentAt = 0
  private all: string[] | undefined
  count = 0

  constructor(
    private readonly clock: () => number,
    keepAll = false,
    private readonly recentLimit = 64,
  ) {
    if (keepAll) this.all = []
  }

  /** Records `event` at the current virtual time; detail values are hashed in sorted-key order. */
  event(source: string, event: string, detail?: Record<string, unknown>): void {
    this.line(`${this.clock()} ${source} ${event}${detail ? ' ' + canonical(detail) : ''}`)
  }

  /** Records a pre-formatted line (the hot path for segments: no object, no JSON). */
  line(text: string): void {
    this.count++
    this.hash.update(text)
    this.hash.update('\n')
    if (this.all) this.all.push(text)
    // A ring: the hot path never shifts an array.
    if (this.recent.length < this.recentLimit) this.recent.push(text)
    else {
      this.recent[this.recentAt] = text
      this.recentAt = (this.recentAt + 1) % this.recentLimit
    }
  }

  /** SHA-256 (hex) over every line so far. */
  digest(): string {
    return this.hash.copy().digest('hex')
  }

  /** The last lines (up to recentLimit), oldest first. */
  tail(): readonly string[] {
    return [...this.recent.slice(this.recentAt), ...this.recent.slice(0, this.recentAt)]
  }

  /** Every line, when the trace was created with keepAll. */
  lines(): readonly string[] | undefined {
    return this.all
  }
}

/** JSON with object keys sorted, so equal values always give equal text. */
export function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return v === undefined ? 'null' : JSON.stringify(v)
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('hex'))
  const keys = Object.keys(v as Record<string, unknown>).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
}

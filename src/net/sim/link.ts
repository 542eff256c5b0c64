// A link between two simulated hosts: per direction latency, jitter, bandwidth and the byte-stream
// faults (split, coalesce) that break record and cell reassembly, plus hold/release and partitions.
// The options come from the seed (swarm testing: each seed draws its own fault mix) unless a
// scenario sets them, and every one is reported in the run's options.

import type { Middlebox } from './middlebox.js'
import type { RngStream } from './rng.js'
import type { Pipe } from './pipe.js'

export interface LinkDirOptions {
  /** One-way delay in virtual ms. */
  latencyMs: number
  /** Extra delay drawn uniformly from [0, jitterMs] per segment (never reorders within a connection). */
  jitterMs: number
  /** Bytes per virtual second; 0 means unlimited (no serialization delay). */
  bandwidth: number
  /** Largest segment a write is cut into. */
  mss: number
  /** Chance each segment is cut again at a random point. */
  splitP: number
  /** Chance a segment joins the previous undelivered one (consecutive writes arrive as one chunk). */
  coalesceP: number
  /** Receive window: bytes in flight plus unread at the receiver before the sender blocks. */
  windowBytes: number
}

export type PartitionMode = 'hold' | 'drop'

/** Draws one direction's options from a seeded stream: the swarm-testing fault mix. */
export function deriveLinkDirOptions(rng: RngStream): LinkDirOptions {
  const latencyMs = rng.int(1, 80)
  return {
    latencyMs,
    jitterMs: rng.chance(0.5) ? rng.int(1, Math.max(1, latencyMs >> 1)) : 0,
    bandwidth: rng.pick([0, 1_000_000, 10_000_000, 100_000_000]),
    mss: rng.pick([64, 536, 1460, 4096, 16384, 65536]),
    splitP: rng.pick([0, 0.1, 0.3, 0.6]),
    coalesceP: rng.pick([0, 0.2, 0.5]),
    windowBytes: rng.pick([16384, 65536, 262144]),
  }
}

/** One direction of a link: its options, its fault stream, and the shared transmitter. */
export class LinkDir {
  /** Virtual time the transmitter is busy until (bandwidth is shared by the link's connections). */
  txFree = 0
  readonly pipes = new Set<Pipe>()

  constructor(
    readonly link: Link,
    readonly from: string,
    readonly to: string,
    public options: LinkDirOptions,
    readonly rng: RngStream,
  ) {}

  /** Deliveries wait while the link is held or partitioned. */
  get blocked(): boolean {
    return this.link.held || this.link.partitioned
  }
}

export class Link {
  held = false
  partitioned = false
  partitionMode: PartitionMode = 'hold'
  /** On-path boxes (censors), in path order: each sees what the ones before it passed. */
  readonly middleboxes: Middlebox[] = []
  readonly ab: LinkDir
  readonly ba: LinkDir

  constructor(
    readonly a: string,
    readonly b: string,
    ab: LinkDirOptions,
    ba: LinkDirOptions,
    rngAb: RngStream,
    rngBa: RngStream,
  ) {
    this.ab = new LinkDir(this, a, b, ab, rngAb)
    this.ba = new LinkDir(this, b, a, ba, rngBa)
  }

  /** The direction carrying bytes from host `from`. */
  dir(from: string): LinkDir {
    return from === this.a ? this.ab : this.ba
  }

  /** Every option, for the run's printed options. */
  describe(): Record<string, unknown> {
    return { [`${this.a}->${this.b}`]: this.ab.options, [`${this.b}->${this.a}`]: this.ba.options }
  }
}

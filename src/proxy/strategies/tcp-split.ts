// tcp-split: the first flight leaves in several TCP segments. Nagle is switched off and each piece
// is its own write, with a short gap on the World clock between them so the kernel sends each
// before the next arrives (best effort: a retransmission may still coalesce them; the live test
// checks the wire with tcpdump). The default cut is inside the SNI host name.

import type { Conn, World } from '../../net/world.js'
import { writeAll } from '../pipe.js'
import { defaultCuts } from '../sni-position.js'
import type { Strategy } from '../strategy.js'
import { dialTarget } from './direct.js'

export interface TcpSplitOptions {
  /** Cut points as offsets into the first flight; default inside the SNI. */
  cuts?: number[]
  /** Pause between pieces, ms of World time (default 10). */
  gapMs?: number
}

function sleep(world: World, ms: number): Promise<void> {
  return new Promise((r) => world.setTimer(ms, r))
}

export function splitPoints(bytes: Uint8Array, sni: string | undefined, cuts?: number[]): number[] {
  const chosen = cuts ?? defaultCuts(bytes, sni)
  return [...new Set(chosen)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)
}

/** Writes `bytes` cut at `points`, one write per piece, waiting `gapMs` between pieces. */
export async function writeSegmented(world: World, conn: Conn, bytes: Uint8Array, points: number[], gapMs: number): Promise<void> {
  conn.setNoDelay?.(true)
  const bounds = [0, ...points, bytes.length]
  for (let i = 0; i + 1 < bounds.length; i++) {
    if (i > 0 && gapMs > 0) await sleep(world, gapMs)
    await writeAll(conn, bytes.subarray(bounds[i], bounds[i + 1]))
  }
}

export function tcpSplit(options: TcpSplitOptions = {}): Strategy {
  return {
    name: 'tcp-split',
    async connect(ctx) {
      const conn = await dialTarget(ctx)
      await writeSegmented(ctx.world, conn, ctx.firstFlight, splitPoints(ctx.firstFlight, ctx.hello?.sni, options.cuts), options.gapMs ?? 10)
      return conn
    },
    // The configured offsets were for the first hello; a second one is cut inside its SNI.
    sendHello: (ctx, conn, raw, sni) => writeSegmented(ctx.world, conn, raw, splitPoints(raw, sni), options.gapMs ?? 10),
  }
}

// record-split: the ClientHello re-framed as several TLS handshake records (cut inside the SNI by
// default), sent in one write. Beats censors that parse only the first record. Non-TLS first
// flights go out unchanged.

import { writeAll } from '../pipe.js'
import { reframeHandshake } from '../record-framing.js'
import type { Strategy } from '../strategy.js'
import { dialTarget } from './direct.js'

export interface RecordSplitOptions {
  /** Cut points as offsets into the handshake message bytes; default inside the SNI. */
  cuts?: number[]
}

export function recordSplit(options: RecordSplitOptions = {}): Strategy {
  return {
    name: 'record-split',
    async connect(ctx) {
      const bytes = ctx.hello ? reframeHandshake(ctx.firstFlight, ctx.hello.sni, options.cuts).bytes : ctx.firstFlight
      const conn = await dialTarget(ctx)
      await writeAll(conn, bytes)
      return conn
    },
    sendHello: (_ctx, conn, raw, sni) => writeAll(conn, reframeHandshake(raw, sni).bytes),
  }
}

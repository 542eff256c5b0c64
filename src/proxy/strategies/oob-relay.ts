// oob-relay: the whole connection goes through a stream on the OOB channel; the helper, outside
// the censor, resolves the name and connects. The censor sees only TLS to the helper with the
// cover SNI. The first flight is delivered unchanged (the helper's own TCP is not censored).

import { writeAll } from '../pipe.js'
import type { Strategy } from '../strategy.js'

export const oobRelay: Strategy = {
  name: 'oob-relay',
  async connect(ctx) {
    if (!ctx.oob) throw new Error('oob-relay needs an OOB helper (--oob)')
    const stream = await ctx.oob.open(ctx.target.host, ctx.target.port)
    stream.pause()
    await writeAll(stream, ctx.firstFlight)
    return stream
  },
}

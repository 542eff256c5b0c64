// oob-resolve: only the name lookup goes to the helper (defeats DNS poisoning); the data goes
// direct, with the hello split in TCP segments as tcp-split does.

import type { Strategy } from '../strategy.js'
import { dialTarget } from './direct.js'
import { splitPoints, writeSegmented, type TcpSplitOptions } from './tcp-split.js'

export function oobResolve(options: TcpSplitOptions = {}): Strategy {
  return {
    name: 'oob-resolve',
    async connect(ctx) {
      if (!ctx.oob) throw new Error('oob-resolve needs an OOB helper (--oob)')
      const addresses = await ctx.oob.resolve(ctx.target.host)
      if (addresses.length === 0) throw new Error(`OOB helper found no address for ${ctx.target.host}`)
      const conn = await dialTarget(ctx, addresses[0])
      await writeSegmented(ctx.world, conn, ctx.firstFlight, splitPoints(ctx.firstFlight, ctx.hello?.sni, options.cuts), options.gapMs ?? 10)
      return conn
    },
    sendHello: (ctx, conn, raw, sni) => writeSegmented(ctx.world, conn, raw, splitPoints(raw, sni), options.gapMs ?? 10),
  }
}

// direct: the baseline. Connect to the target's address and send the first flight unchanged.

import type { Conn } from '../../net/world.js'
import { writeAll } from '../pipe.js'
import type { Strategy, StrategyContext } from '../strategy.js'

export async function dialTarget(ctx: StrategyContext, address?: string): Promise<Conn> {
  const addr = address ?? (await ctx.resolve(ctx.target.host))
  const conn = await ctx.world.net.connect(addr, ctx.target.port)
  conn.pause()
  return conn
}

export const direct: Strategy = {
  name: 'direct',
  async connect(ctx) {
    const conn = await dialTarget(ctx)
    await writeAll(conn, ctx.firstFlight)
    return conn
  },
}

// One interface for every way of getting the client's first flight to the target. A strategy gets
// the World, the target, the bytes the client sent first (its ClientHello, or non-TLS bytes) and
// returns an upstream Conn on which those bytes have been delivered, in order. What happens after
// (copying both ways, watching for a ServerHello) is the front's and the planner's business.

import type { Conn, World } from '../net/world.js'
import type { ClientHelloDecision } from './client-hello-gate.js'
import type { OobClient } from './oob/client.js'
import type { AddressResolver } from './resolver.js'

export const STRATEGY_NAMES = ['direct', 'tcp-split', 'record-split', 'oob-resolve', 'oob-relay'] as const
export type StrategyName = (typeof STRATEGY_NAMES)[number]

export function isStrategyName(s: string): s is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(s)
}

export interface Target {
  host: string
  port: number
}

export interface StrategyContext {
  world: World
  target: Target
  /** Everything the client sent before upstream existed; for TLS, hello.raw + hello.rest. */
  firstFlight: Uint8Array
  /** Present when the first flight is a ClientHello (split strategies need the SNI position). */
  hello: ClientHelloDecision | undefined
  client: Conn
  /** Name to address under the proxy's resolution policy (see resolver.ts). */
  resolve: AddressResolver
  /** The pooled OOB session, when an OOB helper is configured. */
  oob: OobClient | undefined
}

export interface Strategy {
  readonly name: StrategyName
  /** Opens upstream and delivers ctx.firstFlight; rejects (NetError/OobError/Error) if it cannot. */
  connect(ctx: StrategyContext): Promise<Conn>
  /**
   * How this strategy sends a later ClientHello on the same upstream (the second one, after a
   * HelloRetryRequest: it carries the SNI again). Absent: the bytes go out as they are.
   */
  sendHello?(ctx: StrategyContext, upstream: Conn, raw: Uint8Array, sni: string | undefined): Promise<void>
}

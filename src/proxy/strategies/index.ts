// The strategy registry: name → implementation, with per-strategy options.

import type { Strategy, StrategyName } from '../strategy.js'
import { direct } from './direct.js'
import { oobRelay } from './oob-relay.js'
import { oobResolve } from './oob-resolve.js'
import { recordSplit, type RecordSplitOptions } from './record-split.js'
import { tcpSplit, type TcpSplitOptions } from './tcp-split.js'

export interface StrategyOptions {
  tcpSplit?: TcpSplitOptions
  recordSplit?: RecordSplitOptions
}

export function strategies(o: StrategyOptions = {}): Record<StrategyName, Strategy> {
  return {
    direct,
    'tcp-split': tcpSplit(o.tcpSplit),
    'record-split': recordSplit(o.recordSplit),
    'oob-resolve': oobResolve(o.tcpSplit),
    'oob-relay': oobRelay,
  }
}

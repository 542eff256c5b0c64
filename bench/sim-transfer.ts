// The simulator's speed: virtual megabytes delivered per real second for a 100 MB one-way transfer
// over a segmenting link (MSS segments, random splits and coalescing, jitter).

import { transfer, type TransferResult } from '../src/net/sim/bench-transfer.js'

export async function benchSim(bytes = 100 * 1024 * 1024, seed = 1): Promise<TransferResult & { virtualMBps: number; realMBps: number }> {
  const r = await transfer(seed, bytes)
  return { ...r, virtualMBps: bytes / 1e6 / (r.realMs / 1000), realMBps: bytes / 1e6 / (r.virtualMs / 1000) }
}

// A one-way bulk transfer across a segmenting link, for the simulator benchmark: how many virtual
// MB the simulator delivers per real second. The sender reuses one buffer and the receiver only
// counts, so the figure measures the simulator (scheduler, pipes, Duplex streams), not the actors.

import type { LinkDirOptions } from './link.js'
import { SimNetwork } from './network.js'

export interface TransferResult {
  bytes: number
  virtualMs: number
  realMs: number
  /** Chunks the receiver was handed (after splitting and coalescing). */
  chunks: number
  /** Segments the sender's writes were cut into. */
  segments: number
  traceHash: string
  options: Record<string, unknown>
}

/** The default segmenting link: MSS-sized segments, random splits and coalescing, jitter, a window. */
export const segmentingLink: LinkDirOptions = {
  latencyMs: 20,
  jitterMs: 2,
  bandwidth: 100_000_000,
  mss: 1460,
  splitP: 0.25,
  coalesceP: 0.25,
  windowBytes: 262_144,
}

export async function transfer(seed: number, bytes: number, link: Partial<LinkDirOptions> = {}): Promise<TransferResult> {
  const start = performance.now()
  const net = new SimNetwork({ seed })
  const a = net.addHost('sender')
  const b = net.addHost('receiver')
  net.link('sender', 'receiver', { ab: { ...segmentingLink, ...link }, ba: { ...segmentingLink, ...link } })
  let received = 0
  let chunks = 0
  let ended = false
  await b.world.net.listen(9, (conn) => {
    conn.on('data', (d: Buffer) => {
      received += d.length
      chunks++
    })
    conn.on('end', () => {
      ended = true
      conn.end()
    })
  })
  const block = Buffer.alloc(65536, 0x5a)
  const sending = (async () => {
    const conn = await a.world.net.connect('receiver', 9)
    let left = bytes
    while (left > 0) {
      const n = Math.min(left, block.length)
      left -= n
      if (!conn.write(n === block.length ? block : block.subarray(0, n))) await new Promise<void>((r) => conn.once('drain', () => r()))
    }
    conn.end()
  })()
  await net.run({ until: () => ended, maxVirtualMs: 24 * 3_600_000 })
  await sending
  if (received !== bytes) throw new Error(`transfer delivered ${received} of ${bytes} bytes`)
  return {
    bytes,
    virtualMs: net.sched.now(),
    realMs: performance.now() - start,
    chunks,
    segments: net.stats.segments,
    traceHash: net.traceHash(),
    options: net.options(),
  }
}

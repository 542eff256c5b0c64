// Shared by the sim's unit tests: two hosts joined by a link with fixed (not seed-drawn) options.

import type { Conn } from '../world.js'
import type { LinkDirOptions } from './link.js'
import { SimNetwork } from './network.js'

export const quietLink: LinkDirOptions = {
  latencyMs: 10,
  jitterMs: 0,
  bandwidth: 0,
  mss: 65536,
  splitP: 0,
  coalesceP: 0,
  windowBytes: 1 << 20,
}

export async function twoHosts(ab: Partial<LinkDirOptions> = {}, ba: Partial<LinkDirOptions> = {}, seed = 1) {
  const net = new SimNetwork({ seed, policy: 'queue' })
  const a = net.addHost('a', '10.0.0.1')
  const b = net.addHost('b', '10.0.0.2')
  net.link('a', 'b', { ab: { ...quietLink, ...ab }, ba: { ...quietLink, ...ba } })
  const accepted: Conn[] = []
  await b.world.net.listen(80, (c) => accepted.push(c))
  return { net, a, b, accepted }
}

/** Records every chunk a Conn emits with its virtual arrival time. */
export function record(conn: Conn, now: () => number): { chunks: { t: number; data: Buffer }[]; ended: boolean; errors: Error[]; closed: boolean } {
  const r = { chunks: [] as { t: number; data: Buffer }[], ended: false, errors: [] as Error[], closed: false }
  conn.on('data', (d: Buffer) => r.chunks.push({ t: now(), data: d }))
  conn.on('end', () => (r.ended = true))
  conn.on('error', (e: Error) => r.errors.push(e))
  conn.on('close', () => (r.closed = true))
  return r
}

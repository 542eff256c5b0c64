// Path selection (path-spec §2.2, §2.3): exit first, chosen among relays whose policy summary
// accepts the port, then guard, then middle; bandwidth-weighted with the consensus
// bandwidth-weights (10000 when absent); no relay twice, no two in one family, and (unless the
// network is a private test network, like TestingTorNetwork's EnforceDistinctSubnets 0) no two in
// one IPv4 /16. Randomness comes from the World.

import type { World } from '../../net/world.js'
import { toHex } from '../../wire/bytes.js'
import type { NetRelay } from '../dir/directory.js'
import { policyAllowsPort } from '../dir/microdesc.js'

export type Position = 'guard' | 'middle' | 'exit'

export interface PathRules {
  /** Refuse two relays in one IPv4 /16 (default true; false for a private test network). */
  enforceDistinctSubnets?: boolean
}

export class PathError extends Error {
  override readonly name = 'PathError'
}

const usable = (r: NetRelay) => r.flags.has('Running') && r.flags.has('Valid') && !r.flags.has('BadExit')

/** The consensus weight letter pair for a relay in a position (dir-spec §3.8.3). */
function weightKey(r: NetRelay, pos: Position): string {
  const g = r.flags.has('Guard')
  const e = r.flags.has('Exit')
  const kind = g && e ? 'd' : g ? 'g' : e ? 'e' : 'm'
  return { guard: 'Wg', middle: 'Wm', exit: 'We' }[pos] + kind
}

export function relayWeight(r: NetRelay, pos: Position, weights: Map<string, number>): number {
  const w = weights.get(weightKey(r, pos)) ?? 10000
  // Guard-position weights have no "Wge"/"Wgm"; exits without Guard are never guards.
  return Math.max(0, r.bandwidth) * (w / 10000)
}

function sameFamily(a: NetRelay, b: NetRelay): boolean {
  const fa = new Set(a.md.family.map((f) => f.toUpperCase()))
  const fb = new Set(b.md.family.map((f) => f.toUpperCase()))
  const ida = '$' + toHex(a.rsaId).toUpperCase()
  const idb = '$' + toHex(b.rsaId).toUpperCase()
  // Families must be declared by both sides (path-spec §5.3) ...
  if (fa.has(idb) && fb.has(ida)) return true
  // ... or shared through happy-family ids (prop 321), which are certified by their keys.
  return a.md.familyIds.some((id) => b.md.familyIds.includes(id))
}

const slash16 = (r: NetRelay) => r.address.split('.').slice(0, 2).join('.')

export function compatible(a: NetRelay, b: NetRelay, rules: PathRules): boolean {
  if (toHex(a.rsaId) === toHex(b.rsaId)) return false
  if (sameFamily(a, b)) return false
  if ((rules.enforceDistinctSubnets ?? true) && slash16(a) === slash16(b)) return false
  return true
}

/** Weighted random choice; all-zero weights fall back to a uniform choice. */
export function weightedChoice<T>(world: World, items: T[], weight: (t: T) => number): T | undefined {
  if (items.length === 0) return undefined
  const ws = items.map(weight)
  const total = ws.reduce((a, b) => a + b, 0)
  const b = world.random(4)
  const u = (((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0) / 2 ** 32
  if (!(total > 0)) return items[Math.floor(u * items.length)]
  let x = u * total
  for (let i = 0; i < items.length; i++) {
    x -= ws[i]
    if (x < 0) return items[i]
  }
  return items[items.length - 1]
}

/** An exit whose policy summary accepts `port`, bandwidth-weighted; callers narrow `relays` first. */
export function chooseExit(world: World, relays: NetRelay[], port: number, weights: Map<string, number>): NetRelay {
  const candidates = relays.filter((r) => usable(r) && r.flags.has('Exit') && policyAllowsPort(r.md.policy, port))
  const exit = weightedChoice(world, candidates, (r) => relayWeight(r, 'exit', weights))
  if (!exit) throw new PathError(`no exit allows port ${port}`)
  return exit
}

/** A full path: [guard, middle, exit]. `guard` may be fixed (a primary guard or a bridge). */
export function choosePath(world: World, relays: NetRelay[], exit: NetRelay, weights: Map<string, number>, rules: PathRules, guard?: NetRelay): NetRelay[] {
  const g =
    guard ??
    weightedChoice(
      world,
      relays.filter((r) => usable(r) && r.flags.has('Guard') && compatible(r, exit, rules)),
      (r) => relayWeight(r, 'guard', weights),
    )
  if (!g) throw new PathError('no usable guard')
  if (!compatible(g, exit, rules)) throw new PathError('guard and exit are not compatible')
  const m = weightedChoice(
    world,
    relays.filter((r) => usable(r) && compatible(r, exit, rules) && compatible(r, g, rules)),
    (r) => relayWeight(r, 'middle', weights),
  )
  if (!m) throw new PathError('no usable middle relay')
  return [g, m, exit]
}

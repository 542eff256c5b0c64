// The guards a client keeps across restarts (guard-spec §4 "The algorithm", {set:SAMPLED_GUARDS}):
// picking new entry guards at every start would expose a user to ever more first hops, which is
// what guards exist to prevent. Each record holds the guard's RSA identity, when it was added and
// since when the consensus stopped listing it. Pure: the client reads and writes the file.
//
// Parameters from guard-spec's appendix: {GUARD_LIFETIME} 120 days (a guard is dropped that long
// after it was added, listed or not), {REMOVE_UNLISTED_GUARDS_AFTER} 20 days, and ADDED_ON_DATE
// set to RAND(now, GUARD_LIFETIME/10) in the past so the file does not reveal when it was made.

const DAY = 86_400_000
export const GUARD_LIFETIME_MS = 120 * DAY
export const REMOVE_UNLISTED_GUARDS_AFTER_MS = 20 * DAY

export interface GuardRecord {
  /** RSA identity digest, hex (upper case, as in fingerprints). */
  id: string
  addedOn: number
  /** When the consensus in use first stopped listing it as a usable guard; absent while listed. */
  unlistedSince?: number
}

export class GuardStateError extends Error {
  override readonly name = 'GuardStateError'
}

const FORMAT = 'sultry-guards-1'

/** Parses the state file; anything that is not exactly what formatGuardState writes is a GuardStateError. */
export function parseGuardState(text: string): GuardRecord[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new GuardStateError('guard state: not JSON')
  }
  const d = doc as { format?: unknown; guards?: unknown }
  if (typeof d !== 'object' || d === null || d.format !== FORMAT || !Array.isArray(d.guards)) throw new GuardStateError(`guard state: not a ${FORMAT} document`)
  const seen = new Set<string>()
  return d.guards.map((g: unknown, i: number) => {
    const r = g as Partial<GuardRecord> | null
    const time = (t: unknown) => typeof t === 'number' && Number.isSafeInteger(t) && t >= 0
    if (typeof r !== 'object' || r === null || typeof r.id !== 'string' || !/^[0-9A-F]{40}$/.test(r.id) || !time(r.addedOn) || (r.unlistedSince !== undefined && !time(r.unlistedSince))) {
      throw new GuardStateError(`guard state: entry ${i} is malformed`)
    }
    if (seen.has(r.id)) throw new GuardStateError(`guard state: ${r.id} listed twice`)
    seen.add(r.id)
    return r.unlistedSince === undefined ? { id: r.id, addedOn: r.addedOn! } : { id: r.id, addedOn: r.addedOn!, unlistedSince: r.unlistedSince }
  })
}

export function formatGuardState(guards: readonly GuardRecord[]): string {
  return JSON.stringify({ format: FORMAT, guards }, null, 1) + '\n'
}

/** A new record for `id`, its added-on date drawn from [now - GUARD_LIFETIME/10, now] by `u` in [0, 1). */
export function newGuard(id: string, now: number, u: number): GuardRecord {
  return { id, addedOn: now - Math.floor((u * GUARD_LIFETIME_MS) / 10) }
}

/**
 * The records after a consensus: listed ones lose their unlisted date, newly unlisted ones get
 * `now`, and those past their lifetime or unlisted too long are gone. Order is kept: it is the
 * order in which the guards are preferred.
 */
export function reconcileGuards(guards: readonly GuardRecord[], listed: (id: string) => boolean, now: number): GuardRecord[] {
  const out: GuardRecord[] = []
  for (const g of guards) {
    if (now - g.addedOn >= GUARD_LIFETIME_MS) continue
    if (listed(g.id)) {
      out.push({ id: g.id, addedOn: g.addedOn })
      continue
    }
    const since = g.unlistedSince ?? now
    if (now - since >= REMOVE_UNLISTED_GUARDS_AFTER_MS) continue
    out.push({ id: g.id, addedOn: g.addedOn, unlistedSince: since })
  }
  return out
}

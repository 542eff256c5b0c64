// Relays this client saw fail, each remembered for a while of World time and then given another
// chance. Marks must fade: a relay that was restarted, or an exit blamed for a DESTROY that some
// other hop caused, would otherwise be shunned for the life of the process. C tor forgets an OR
// connection failure after 60 s (OR_CONNECT_FAILURE_LIFETIME) and retries a primary guard after
// 10 minutes (guard-spec §4.6's first retry interval); we keep marks for the latter.

export const RELAY_MARK_TTL_MS = 10 * 60_000

export class RelayMarks {
  private readonly until = new Map<string, number>()

  constructor(
    private readonly now: () => number,
    private readonly ttlMs = RELAY_MARK_TTL_MS,
  ) {}

  add(id: string): void {
    this.until.set(id, this.now() + this.ttlMs)
  }

  has(id: string): boolean {
    const t = this.until.get(id)
    if (t === undefined) return false
    if (t > this.now()) return true
    this.until.delete(id)
    return false
  }
}

// When a client asks for its next consensus (dir-spec §5.1, "Downloading network-status documents"):
// at a time drawn uniformly from [FU + 3/4·I, that + 7/8·(VU − that)], where I = FU − VA is the
// voting interval. Waiting past fresh-until lets the caches pick up the new consensus first;
// stopping short of valid-until leaves time to retry before the old one expires. The spec's own
// example: VA 1:00, FU 2:00, VU 4:00 → between 2:45 and 3:50 (3/4 of an hour is 45 min, and 7/8
// of the remaining 75 min is 65 min).

/** The three times that say when a consensus is current (milliseconds since the epoch). */
export interface ConsensusLifetime {
  validAfter: number
  freshUntil: number
  validUntil: number
}

/** The window in which a client holding `c` fetches the next consensus. */
export function refreshWindow(c: ConsensusLifetime): { from: number; to: number } {
  const interval = c.freshUntil - c.validAfter
  // A consensus whose valid-until comes before FU + 3/4·I (authorities never publish one) is
  // refreshed at its end rather than after it.
  const from = Math.min(c.freshUntil + (3 * interval) / 4, c.validUntil)
  return { from, to: from + (7 * (c.validUntil - from)) / 8 }
}

/** The moment within refreshWindow(c) that `u` (uniform in [0, 1)) picks. */
export function refreshTime(c: ConsensusLifetime, u: number): number {
  const { from, to } = refreshWindow(c)
  return Math.floor(from + u * (to - from))
}

/** A uniform number in [0, 1) from four random bytes (the World's randomness, so seeded in sim). */
export function uniformFromBytes(b: Uint8Array): number {
  return (((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0) / 2 ** 32
}

/**
 * How long to wait before asking again when a cache had nothing newer or the fetch failed: an
 * eighth of the voting interval (within 1 s … 10 min), stretched by up to 2× with `u` so clients
 * that failed together do not return together. The lab's 20 s interval gives 2.5–5 s; the public
 * network's hour gives 7.5–15 min, well inside the refresh window's 65 minutes.
 */
export function refreshRetryMs(c: ConsensusLifetime, u: number): number {
  const base = Math.min(10 * 60_000, Math.max(1000, (c.freshUntil - c.validAfter) / 8))
  return Math.floor(base) + Math.floor(base * u)
}

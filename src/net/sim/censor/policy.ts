// What a censor blocks and what it does to a flow it blocks. Shared by every rung.

/** Blocklists. Names compare case-insensitively, without a trailing dot. */
export interface Blocklist {
  /** Exact host names. */
  names?: readonly string[]
  /** Domain suffixes: "example.org" blocks example.org and every name under it. */
  suffixes?: readonly string[]
  /** Destination IPv4 addresses: every connection to them is blocked, whatever it carries. */
  ips?: readonly string[]
}

/**
 * drop: the flow's segments from the trigger on are silently discarded (both directions).
 * rst: the trigger segment is discarded and a forged RST goes to both ends (GFW style).
 * throttle: the flow may carry `afterBytes` bytes in total (both directions, counted from its
 * first byte), then freezes (TSPU's 16–20 KB freeze, notes §5.1).
 */
export type CensorAction = { readonly kind: 'drop' } | { readonly kind: 'rst' } | { readonly kind: 'throttle'; readonly afterBytes: number }

export interface CensorOptions {
  blocklist: Blocklist
  /** Default: drop. */
  action?: CensorAction
  /** Flows tracked at once; beyond this the oldest is forgotten (its later segments look like a flow picked up mid-stream). Default 4096. */
  maxFlows?: number
}

export function normalizeName(name: string): string {
  const n = name.toLowerCase()
  return n.endsWith('.') ? n.slice(0, -1) : n
}

/** The listed name or suffix a host name matches, if any. */
export function listedName(list: Blocklist, host: string): string | undefined {
  const h = normalizeName(host)
  for (const n of list.names ?? []) if (normalizeName(n) === h) return n
  for (const s of list.suffixes ?? []) {
    const x = normalizeName(s)
    if (h === x || h.endsWith(`.${x}`)) return `*.${x}`
  }
  return undefined
}

export function listedIp(list: Blocklist, address: string): boolean {
  return (list.ips ?? []).includes(address)
}

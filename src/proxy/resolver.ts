// How the proxy turns a target name into an address. The local system resolver is the one a
// censor poisons, so the proxy never uses it unless told (--resolve-locally). The policy, in
// order: an IP literal is used as is; a static map (--map NAME=IP, also how tests point lab names
// at 127.0.0.1); the OOB helper's RESOLVE when a helper is configured; the local resolver when
// allowed; otherwise the request is refused with NoResolverError, which the front reports to the
// client as "host unreachable" with the reason.

import { isIpv4Text, isIpv6Text } from '../wire/socks/address.js'

export type AddressResolver = (host: string) => Promise<string>

/** A lookup function the CLI injects (node:dns); protocol code never imports node:dns. */
export type Lookup = (host: string) => Promise<string>

export class NoResolverError extends Error {
  override readonly name = 'NoResolverError'
  readonly code = 'ENORESOLVER'
  constructor(host: string) {
    super(`no resolver allowed for ${host}: pass --oob (helper resolves) or --resolve-locally, or --map ${host}=IP`)
  }
}

export function isIpLiteral(host: string): boolean {
  return isIpv4Text(host) || isIpv6Text(host)
}

export interface ResolverPolicy {
  map?: ReadonlyMap<string, string>
  /** Asks the OOB helper (RESOLVE frame). */
  oob?: Lookup
  /** The local system resolver; only with --resolve-locally. */
  local?: Lookup
}

export function policyResolver(p: ResolverPolicy): AddressResolver {
  return async (host) => {
    if (isIpLiteral(host)) return host
    const mapped = p.map?.get(host.toLowerCase())
    if (mapped !== undefined) return mapped
    if (p.oob) return p.oob(host)
    if (p.local) return p.local(host)
    throw new NoResolverError(host)
  }
}

/** Parses NAME=IP pairs (--map). */
export function parseHostMap(pairs: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    const name = pair.slice(0, eq).toLowerCase()
    const ip = pair.slice(eq + 1)
    if (eq <= 0 || !isIpLiteral(ip)) throw new Error(`bad host mapping "${pair}" (want NAME=IP)`)
    out.set(name, ip)
  }
  return out
}

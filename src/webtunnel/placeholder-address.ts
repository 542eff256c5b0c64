// The bridge line's placeholder address. A WebTunnel bridge has no address of its own to publish
// (clients dial the url's host), but tor's Bridge line needs one, so the official server
// synthesises an IPv6 address in the documentation prefix 2001:db8::/32 from the url. Tor hands it
// to the PT's SOCKS port; the PT never dials it.
//
// Derivation (official server, common/syntheticIP/ip.go and main/server/main.go, read as facts):
// hash = SHA-256("WEBTUNNEL+" + url); address = the /32 prefix's first 4 bytes, then hash[4..16).

import { sha256 } from '@noble/hashes/sha2.js'
import { ipv6ToText } from '../wire/socks/address.js'

/** 2001:db8::/32 (RFC 3849), the documentation prefix: never routed, so never a real peer. */
export const PLACEHOLDER_PREFIX = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8)

/** The official server's placeholder for `url`, in RFC 5952 text (as Go's net.IP prints it). */
export function placeholderAddress(url: string): string {
  const hash = sha256(new TextEncoder().encode(`WEBTUNNEL+${url}`))
  const ip = new Uint8Array(16)
  ip.set(PLACEHOLDER_PREFIX)
  ip.set(hash.subarray(4, 16), 4)
  return ipv6ToText(ip)
}

/** True for any address inside 2001:db8::/32 — the ones a WebTunnel client must not dial. */
export function isPlaceholderAddress(ip: Uint8Array): boolean {
  return ip.length === 16 && PLACEHOLDER_PREFIX.every((b, i) => ip[i] === b)
}

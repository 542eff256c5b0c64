// Which addresses the helper refuses to connect to unless --allow-private: it must not become a
// way into its own host or network. Checked on the resolved address (a public name may resolve to
// 127.0.0.1: DNS rebinding). Ranges from the IANA special-purpose registries (RFC 6890 and
// successors): this network, private, shared CGN, loopback, link-local, multicast, reserved.

import { ipv4FromText, ipv6FromText, isIpv4Text, isIpv6Text } from '../../wire/socks/address.js'

function v4Private(b: Uint8Array): boolean {
  const [a, c] = [b[0], b[1]]
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && c >= 64 && c < 128) ||
    (a === 169 && c === 254) ||
    (a === 172 && c >= 16 && c < 32) ||
    (a === 192 && c === 168) ||
    (a === 192 && c === 0 && b[2] === 0) ||
    (a === 198 && (c === 18 || c === 19)) ||
    a >= 224
  )
}

/** True for addresses the helper must not reach for a client (and for anything not an IP). */
export function isPrivateAddress(ip: string): boolean {
  if (isIpv4Text(ip)) return v4Private(ipv4FromText(ip))
  if (!isIpv6Text(ip)) return true
  const b = ipv6FromText(ip)
  const zeroPrefix = b.subarray(0, 10).every((x) => x === 0)
  if (zeroPrefix && b[10] === 0xff && b[11] === 0xff) return v4Private(b.subarray(12)) // ::ffff:a.b.c.d
  if (b.subarray(0, 15).every((x) => x === 0) && (b[15] === 0 || b[15] === 1)) return true // :: and ::1
  if ((b[0] & 0xfe) === 0xfc) return true // fc00::/7 unique local
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return true // fe80::/10 link-local
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0xc0) return true // fec0::/10 site-local (deprecated, RFC 3879)
  if (b[0] === 0xff) return true // multicast
  if (zeroPrefix && b[10] === 0 && b[11] === 0) return true // deprecated IPv4-compatible
  return false
}

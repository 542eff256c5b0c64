// SOCKS addresses (RFC 1928 §5): ATYP 1 = IPv4 (4 octets), 3 = domain name (one length octet, then
// the name, no NUL), 4 = IPv6 (16 octets). Shared by SOCKS5 requests/replies and SOCKS4/4a.

import { Reader, WireError, Writer } from '../bytes.js'
import {
  formatIpv4 as ipv4ToText,
  formatIpv6 as ipv6ToText,
  parseIpv4 as ipv4FromText,
  parseIpv6 as ipv6FromText,
} from '../ip/address.js'

// Address text is the IP codec's: RFC 5952 output, strict RFC 4291 input, no octal-looking quads.
export { ipv4FromText, ipv4ToText, ipv6FromText, ipv6ToText }

export const ATYP = { ipv4: 1, domainName: 3, ipv6: 4 } as const
export type AddressType = 'ipv4' | 'domain' | 'ipv6'

export function addressTypeOf(atyp: number): AddressType | undefined {
  return atyp === ATYP.ipv4 ? 'ipv4' : atyp === ATYP.domainName ? 'domain' : atyp === ATYP.ipv6 ? 'ipv6' : undefined
}

export function atypOf(type: AddressType): number {
  return type === 'ipv4' ? ATYP.ipv4 : type === 'domain' ? ATYP.domainName : ATYP.ipv6
}

/** Largest DST.ADDR / BND.ADDR body: a 255-octet name plus its length octet. */
export const MAX_ADDRESS_BYTES = 256

/**
 * Host names travel as octets. We accept printable ASCII without spaces only: real clients send
 * punycode, and refusing control bytes here keeps them out of logs, DNS and HTTP Host lines later.
 */
export function isDomainOctet(b: number): boolean {
  return b > 0x20 && b < 0x7f
}

export function readAddress(r: Reader, atyp: number): string {
  switch (atyp) {
    case ATYP.ipv4:
      return ipv4ToText(r.bytes(4))
    case ATYP.ipv6:
      return ipv6ToText(r.bytes(16))
    case ATYP.domainName: {
      const len = r.u8()
      return domainFromOctets(r.bytes(len), r.what)
    }
    default:
      throw new WireError('unsupported', `${r.what}: address type ${atyp}`)
  }
}

export function writeAddress(w: Writer, atyp: number, host: string): void {
  switch (atyp) {
    case ATYP.ipv4:
      w.bytes(ipv4FromText(host))
      return
    case ATYP.ipv6:
      w.bytes(ipv6FromText(host))
      return
    case ATYP.domainName:
      w.vec8((v) => v.bytes(domainToOctets(host)))
      return
    default:
      throw new WireError('unsupported', `address type ${atyp}`)
  }
}

export function domainFromOctets(b: Uint8Array, what = 'domain name'): string {
  if (b.length === 0) throw new WireError('bad-value', `${what}: empty domain name`)
  let s = ''
  for (const c of b) {
    if (!isDomainOctet(c)) throw new WireError('bad-value', `${what}: octet 0x${c.toString(16)} in domain name`)
    s += String.fromCharCode(c)
  }
  return s
}

export function domainToOctets(host: string): Uint8Array {
  if (host.length === 0 || host.length > 255) throw new WireError('bad-value', `domain name of ${host.length} octets`)
  const out = new Uint8Array(host.length)
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i)
    if (!isDomainOctet(c)) throw new WireError('bad-value', `character 0x${c.toString(16)} in domain name`)
    out[i] = c
  }
  return out
}

export function isIpv4Text(s: string): boolean {
  try {
    ipv4FromText(s)
    return true
  } catch {
    return false
  }
}

export function isIpv6Text(s: string): boolean {
  try {
    ipv6FromText(s)
    return true
  } catch {
    return false
  }
}

// SOCKS addresses (RFC 1928 §5): ATYP 1 = IPv4 (4 octets), 3 = domain name (one length octet, then
// the name, no NUL), 4 = IPv6 (16 octets). Shared by SOCKS5 requests/replies and SOCKS4/4a.

import { Reader, WireError, Writer } from '../bytes.js'

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

export function ipv4ToText(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`
}

/** Dotted-quad only, no leading zeros (which some resolvers read as octal). */
export function ipv4FromText(s: string): Uint8Array {
  const parts = s.split('.')
  if (parts.length !== 4) throw new WireError('bad-value', `not an IPv4 address: ${JSON.stringify(s)}`)
  return Uint8Array.from(parts, (p) => {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) {
      throw new WireError('bad-value', `not an IPv4 address: ${JSON.stringify(s)}`)
    }
    return Number(p)
  })
}

export function isIpv4Text(s: string): boolean {
  try {
    ipv4FromText(s)
    return true
  } catch {
    return false
  }
}

/** RFC 5952 text: lower-case hex, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
export function ipv6ToText(b: Uint8Array): string {
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1])
  let bestAt = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      bestAt = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':')
  if (bestAt < 0) return hex(groups)
  return `${hex(groups.slice(0, bestAt))}::${hex(groups.slice(bestAt + bestLen))}`
}

/** Accepts the RFC 4291 §2.2 text forms, including "::" and a trailing dotted-quad. */
export function ipv6FromText(s: string): Uint8Array {
  const bad = () => new WireError('bad-value', `not an IPv6 address: ${JSON.stringify(s)}`)
  if (s.length > 45) throw bad()
  const halves = s.split('::')
  if (halves.length > 2) throw bad()
  const parse = (part: string, allowV4: boolean): number[] => {
    if (part === '') return []
    const pieces = part.split(':')
    const out: number[] = []
    pieces.forEach((p, i) => {
      if (allowV4 && i === pieces.length - 1 && p.includes('.')) {
        const v4 = ipv4FromText(p)
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3])
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16))
      else throw bad()
    })
    return out
  }
  let groups: number[]
  try {
    if (halves.length === 1) {
      groups = parse(halves[0], true)
      if (groups.length !== 8) throw bad()
    } else {
      const head = parse(halves[0], false)
      const tail = parse(halves[1], true)
      if (head.length + tail.length > 7) throw bad()
      groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail]
    }
  } catch {
    throw bad()
  }
  const out = new Uint8Array(16)
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8
    out[2 * i + 1] = g & 0xff
  })
  return out
}

export function isIpv6Text(s: string): boolean {
  try {
    ipv6FromText(s)
    return true
  } catch {
    return false
  }
}

// IP addresses as bytes (4 or 16) and as text. IPv6 text follows RFC 5952 §4: lowercase hex, no
// leading zeros, the longest run (leftmost on a tie) of two or more zero groups becomes "::";
// and §5: IPv4-mapped addresses (::ffff:0:0/96) end in dotted decimal, as Wireshark prints them.

import { WireError } from '../bytes.js'

export type IpAddress = Uint8Array

export function formatIp(addr: IpAddress): string {
  if (addr.length === 4) return formatIpv4(addr)
  if (addr.length === 16) return formatIpv6(addr)
  throw new WireError('bad-length', `IP address of ${addr.length} bytes`)
}

export function formatIpv4(a: Uint8Array): string {
  return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`
}

export function formatIpv6(a: Uint8Array): string {
  if (a.subarray(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff) return `::ffff:${formatIpv4(a.subarray(12))}`
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push((a[i] << 8) | a[i + 1])
  // RFC 5952 §4.2.2: a single zero group is not shortened; §4.2.3: first longest run wins.
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
  const hex = groups.map((g) => g.toString(16))
  if (bestAt < 0) return hex.join(':')
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`
}

export function parseIp(text: string): IpAddress {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text)
}

export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.')
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255)) {
    throw new WireError('bad-value', `not an IPv4 address: ${JSON.stringify(text)}`)
  }
  return Uint8Array.from(parts.map(Number))
}

/** Accepts the RFC 4291 §2.2 text forms, including "::" and a trailing dotted quad (only at the end). */
export function parseIpv6(text: string): Uint8Array {
  const bad = (): WireError => new WireError('bad-value', `not an IPv6 address: ${JSON.stringify(text)}`)
  if (text.length > 45) throw bad()
  const halves = text.split('::')
  if (halves.length > 2) throw bad()
  const groupsOf = (part: string, allowV4: boolean): number[] => {
    if (part === '') return []
    const pieces = part.split(':')
    const out: number[] = []
    pieces.forEach((p, i) => {
      if (allowV4 && i === pieces.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p)
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3])
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16))
      else throw bad()
    })
    return out
  }
  let groups: number[]
  try {
    if (halves.length === 1) {
      groups = groupsOf(halves[0], true)
      if (groups.length !== 8) throw bad()
    } else {
      const head = groupsOf(halves[0], false)
      const tail = groupsOf(halves[1], true)
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

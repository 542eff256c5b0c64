// The authority of a CONNECT target (RFC 9112 §3.2.3: authority-form = uri-host ":" port),
// with uri-host per RFC 3986 §3.2.2: an IP-literal in brackets, an IPv4 address or a reg-name.

import { WireError } from '../bytes.js'
import { ipv6FromText, ipv6ToText } from '../socks/address.js'

export interface Authority {
  /** Without brackets; IPv6 in RFC 5952 form. */
  host: string
  port: number
}

// unreserved / pct-encoded / sub-delims
const REG_NAME = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/

export function parseAuthority(text: string, what = 'authority'): Authority {
  const bad = (why: string) => new WireError('bad-value', `${what}: ${why} in ${JSON.stringify(text)}`)
  const colon = text.lastIndexOf(':')
  if (colon < 0) throw bad('no port')
  const hostText = text.slice(0, colon)
  const portText = text.slice(colon + 1)
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535 || Number(portText) === 0) throw bad('bad port')
  let host: string
  if (hostText.startsWith('[')) {
    if (!hostText.endsWith(']')) throw bad('unclosed IP-literal')
    try {
      host = ipv6ToText(ipv6FromText(hostText.slice(1, -1)))
    } catch {
      throw bad('bad IPv6 address')
    }
  } else {
    if (!REG_NAME.test(hostText)) throw bad('bad host')
    host = hostText
  }
  return { host, port: Number(portText) }
}

export function formatAuthority(a: Authority): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}

// Bridge lines as tor reads them (torrc "Bridge" option, tor's parse_bridge_line) and Tor Browser
// shows them: "[Bridge] transport addr:port [FINGERPRINT] k=v k=v …". For WebTunnel the address is
// the 2001:db8 placeholder (placeholder-address.ts) and the arguments say where to really go:
//   webtunnel [2001:db8:…]:443 FINGERPRINT url=https://host/path ver=0.0.1 servername=… cert=…
// Items are separated by whitespace; an argument is any item with an '=' after a non-empty key
// (tor's string_is_key_value), its value everything after the first '='. There is no quoting in
// a bridge line: a value cannot hold whitespace. The SOCKS form of the arguments is pt/args.ts.

import { WireError } from '../wire/bytes.js'
import { ipv4FromText, ipv6FromText, ipv6ToText } from '../wire/socks/address.js'
import type { PtArgs } from './pt/args.js'

export interface BridgeLine {
  /** Transport name, a C identifier ("webtunnel"). */
  transport: string
  /** IPv4 dotted quad or IPv6 in RFC 5952 text (no brackets). */
  address: string
  port: number
  /** Bridge RSA identity fingerprint, 40 upper-case hex digits; tor checks it in the CERTS cell. */
  fingerprint?: string | undefined
  /** In order; a key may repeat (lyrebird takes several servername=). */
  args: PtArgs
}

const WHAT = 'bridge line'
/** Longer than any line tor or BridgeDB produce; bounds the work on untrusted text. */
export const MAX_BRIDGE_LINE_CHARS = 4096

const bad = (detail: string) => new WireError('bad-value', `${WHAT}: ${detail}`)

export function parseBridgeLine(text: string): BridgeLine {
  if (text.length > MAX_BRIDGE_LINE_CHARS) throw new WireError('too-large', `${WHAT}: ${text.length} characters`)
  const items = text.trim().split(/[ \t]+/).filter((s) => s !== '')
  // Tor Browser and torrc snippets often keep the option name in front.
  if (items[0]?.toLowerCase() === 'bridge') items.shift()
  const transport = items.shift()
  if (transport === undefined) throw bad('empty')
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(transport)) throw bad(`transport ${JSON.stringify(transport)} is not a C identifier`)
  const addrport = items.shift()
  if (addrport === undefined) throw bad('no address:port')
  const { address, port } = parseAddrPort(addrport)
  let fingerprint: string | undefined
  if (items.length > 0 && !isKeyValue(items[0])) {
    const fp = items.shift()!.replace(/^\$/, '')
    if (!/^[0-9A-Fa-f]{40}$/.test(fp)) throw bad(`fingerprint ${JSON.stringify(fp)} is not 40 hex digits`)
    fingerprint = fp.toUpperCase()
  }
  const args: PtArgs = items.map((item) => {
    if (!isKeyValue(item)) throw bad(`${JSON.stringify(item)} is not k=v`)
    const eq = item.indexOf('=')
    return [item.slice(0, eq), item.slice(eq + 1)]
  })
  return { transport, address, port, fingerprint, args }
}

/** The canonical form: lower-case transport as given, bracketed IPv6, upper-case fingerprint. */
export function formatBridgeLine(b: BridgeLine): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(b.transport)) throw bad(`transport ${JSON.stringify(b.transport)}`)
  const { address } = parseAddrPort(b.address.includes(':') ? `[${b.address}]:${b.port}` : `${b.address}:${b.port}`)
  const parts = [b.transport, address.includes(':') ? `[${address}]:${b.port}` : `${address}:${b.port}`]
  if (b.fingerprint !== undefined) {
    if (!/^[0-9A-Fa-f]{40}$/.test(b.fingerprint)) throw bad('fingerprint is not 40 hex digits')
    parts.push(b.fingerprint.toUpperCase())
  }
  for (const [k, v] of b.args) {
    if (k === '' || k.includes('=') || /\s/.test(k) || /\s/.test(v)) throw bad(`argument ${JSON.stringify(`${k}=${v}`)} cannot be written in a bridge line`)
    parts.push(`${k}=${v}`)
  }
  return parts.join(' ')
}

/** The last value of `key` (tor keeps duplicates; single-valued options take the last). */
export function bridgeArg(args: PtArgs, key: string): string | undefined {
  for (let i = args.length - 1; i >= 0; i--) if (args[i][0] === key) return args[i][1]
  return undefined
}

function isKeyValue(item: string): boolean {
  return item.indexOf('=') > 0
}

function parseAddrPort(s: string): { address: string; port: number } {
  let host: string
  let portText: string
  if (s.startsWith('[')) {
    const close = s.indexOf(']')
    if (close < 0 || s[close + 1] !== ':') throw bad(`address ${JSON.stringify(s)}`)
    host = s.slice(1, close)
    portText = s.slice(close + 2)
    // Normalise to RFC 5952 so a printed line compares equal however the address was written.
    host = ipv6ToText(ipv6FromText(host))
  } else {
    const colon = s.lastIndexOf(':')
    if (colon < 0) throw bad(`address ${JSON.stringify(s)} has no port`)
    host = s.slice(0, colon)
    portText = s.slice(colon + 1)
    ipv4FromText(host)
  }
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) throw bad(`port ${JSON.stringify(portText)}`)
  return { address: host, port: Number(portText) }
}

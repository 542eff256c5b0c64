// Per-bridge arguments on their way from a Bridge line to the PT and from the PT to tor, in the
// two escaped forms pt-spec.txt defines:
// - SOCKS arguments (pt-spec §3.5): "k=v;k=v" — tor escapes ';' and '\' with a backslash inside
//   each "k=v"; the PT splits at unescaped ';' and each entry at its first unescaped '='.
// - SMETHOD ARGS (pt-spec §3.3.3): "k=v,k=v" — ',' '=' and '\' escaped with a backslash (as
//   goptlib's SmethodArgs writes them).

import { WireError } from '../../wire/bytes.js'

export type PtArgs = [key: string, value: string][]

const WHAT = 'PT arguments'

/** Longest argument string we accept: both SOCKS5 fields full (pt-spec splits at 255 bytes). */
export const MAX_SOCKS_ARGS_BYTES = 510

function escape(s: string, special: string): string {
  let out = ''
  for (const c of s) out += special.includes(c) || c === '\\' ? `\\${c}` : c
  return out
}

/** "k=v;k=v" as tor writes it (tor_escape_str_for_pt_args over each "k=v" with ";\\"). */
export function encodeSocksArgs(args: PtArgs): string {
  return args.map(([k, v]) => escape(`${k}=${v}`, ';')).join(';')
}

/**
 * Splits at unescaped ';', then each entry at its first unescaped '='. A backslash escapes any next
 * character. An entry without '=', an empty key or a trailing lone backslash is `bad-value`.
 */
export function decodeSocksArgs(text: string): PtArgs {
  if (text.length > MAX_SOCKS_ARGS_BYTES) throw new WireError('too-large', `${WHAT}: ${text.length} characters`)
  if (text === '') return []
  const out: PtArgs = []
  let key: string | undefined
  let cur = ''
  const finish = () => {
    if (key === undefined) throw new WireError('bad-value', `${WHAT}: entry ${JSON.stringify(cur)} has no '='`)
    if (key === '') throw new WireError('bad-value', `${WHAT}: empty key`)
    out.push([key, cur])
    key = undefined
    cur = ''
  }
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\\') {
      if (i + 1 === text.length) throw new WireError('bad-value', `${WHAT}: trailing backslash`)
      cur += text[++i]
    } else if (c === '=' && key === undefined) {
      key = cur
      cur = ''
    } else if (c === ';') {
      finish()
    } else {
      cur += c
    }
  }
  finish()
  return out
}

/**
 * The arguments tor put in the SOCKS5 username/password (pt-spec §3.5): the list is UNAME, or,
 * when it did not fit, UNAME followed by PASSWD; a PASSWD of one NUL means "nothing here".
 */
export function socksArgsFromCredentials(username: string, password: string | undefined): PtArgs {
  const rest = password === undefined || password === '\0' ? '' : password
  return decodeSocksArgs(username + rest)
}

/** The reverse: split as pt-spec says (first 255 bytes in UNAME, the rest in PASSWD, or a NUL). */
export function socksCredentialsForArgs(args: PtArgs): { username: string; password: string } {
  const text = encodeSocksArgs(args)
  if (text.length > MAX_SOCKS_ARGS_BYTES) throw new WireError('too-large', `${WHAT}: ${text.length} characters`)
  if (text.length === 0) throw new WireError('bad-value', `${WHAT}: no arguments to carry`)
  return text.length <= 255 ? { username: text, password: '\0' } : { username: text.slice(0, 255), password: text.slice(255) }
}

/** "k=v,k=v" with ',', '=' and '\' escaped, for an SMETHOD line's ARGS: option. */
export function encodeSmethodArgs(args: PtArgs): string {
  return args.map(([k, v]) => `${escape(k, '=,')}=${escape(v, '=,')}`).join(',')
}

/**
 * TOR_PT_SERVER_TRANSPORT_OPTIONS (pt-spec §3.2.3): "name:k=v;name:k=v", ';' ':' '=' '\' escaped
 * inside values with a backslash. Returns the options for `transport` only.
 */
export function decodeServerTransportOptions(text: string, transport: string): PtArgs {
  const out: PtArgs = []
  for (const entry of splitUnescaped(text, ';')) {
    if (entry === '') continue
    const colon = indexUnescaped(entry, ':')
    if (colon <= 0) throw new WireError('bad-value', `${WHAT}: option ${JSON.stringify(entry)} has no "transport:"`)
    const name = entry.slice(0, colon)
    const kv = entry.slice(colon + 1)
    const eq = indexUnescaped(kv, '=')
    if (eq <= 0) throw new WireError('bad-value', `${WHAT}: option ${JSON.stringify(entry)} is not k=v`)
    if (name === transport) out.push([unescape(kv.slice(0, eq)), unescape(kv.slice(eq + 1))])
  }
  return out
}

function indexUnescaped(s: string, c: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++
    else if (s[i] === c) return i
  }
  return -1
}

function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = []
  let start = 0
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++
    else if (s[i] === sep) {
      parts.push(s.slice(start, i))
      start = i + 1
    }
  }
  parts.push(s.slice(start))
  return parts
}

function unescape(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') out += s[i]
    else if (i + 1 < s.length) out += s[++i]
    else throw new WireError('bad-value', `${WHAT}: trailing backslash`)
  }
  return out
}

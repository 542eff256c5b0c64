// Character classes of RFC 9110 §5.6.2 (token) and §5.5 (field values), plus the latin1 mapping
// we use so that obs-text octets survive a parse/encode round trip unchanged.

import { WireError } from '../bytes.js'

const TCHAR_PUNCT = "!#$%&'*+-.^_`|~"

export function isTchar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || TCHAR_PUNCT.includes(String.fromCharCode(c))
  )
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false
  for (let i = 0; i < s.length; i++) if (!isTchar(s.charCodeAt(i))) return false
  return true
}

/** field-vchar / SP / HTAB: VCHAR, obs-text (0x80–0xFF), no CTL but HTAB — so no CR, LF or NUL. */
export function isFieldValueChar(c: number): boolean {
  return c === 0x09 || (c >= 0x20 && c !== 0x7f && c <= 0xff)
}

export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isFieldValueChar(s.charCodeAt(i))) return false
  // Leading/trailing whitespace is not part of a field value (RFC 9110 §5.5): it would not survive.
  return !/^[ \t]|[ \t]$/.test(s)
}

export function latin1(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096))
  return s
}

export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0xff) throw new WireError('bad-value', `character U+${c.toString(16)} cannot go in an HTTP/1.1 head`)
    out[i] = c
  }
  return out
}

/** HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3); we speak major version 1 only. */
export function checkVersion(v: string, what: string): void {
  if (!/^HTTP\/[0-9]\.[0-9]$/.test(v)) throw new WireError('bad-value', `${what}: bad HTTP-version ${JSON.stringify(v)}`)
  if (v[5] !== '1') throw new WireError('unsupported', `${what}: ${v}`)
}

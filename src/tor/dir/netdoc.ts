// Tor's directory document meta-format (dir-spec §1.2 "Document meta-format"): lines of
// `Keyword Arguments`, each optionally followed by one object in -----BEGIN X----- / -----END X-----
// armour. A tokenizer only; what items a document needs is each document's parser's business.
// Malformed input throws WireError and nothing else.

import { WireError } from '../../wire/bytes.js'

export interface NetdocObject {
  type: string
  bytes: Uint8Array
}

export interface NetdocItem {
  keyword: string
  args: string[]
  object?: NetdocObject
  /** Offsets of the item's first character and one past its last (for signed ranges). */
  start: number
  end: number
}

/** Documents bigger than this are refused before tokenizing (the lab's consensus is ~6 KB). */
export const MAX_NETDOC_LEN = 8 << 20

const KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/
const B64 = /^[A-Za-z0-9+/=]*$/

export function tokenize(text: string, what = 'directory document'): NetdocItem[] {
  if (text.length > MAX_NETDOC_LEN) throw new WireError('too-large', `${what} of ${text.length} bytes`)
  const items: NetdocItem[] = []
  let pos = 0
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos)
    if (nl < 0) throw new WireError('truncated', `${what}: last line has no newline`)
    const line = text.slice(pos, nl)
    const start = pos
    pos = nl + 1
    const parts = line.split(/[ \t]+/)
    const keyword = parts[0] === 'opt' ? (parts[1] ?? '') : parts[0]
    const args = (parts[0] === 'opt' ? parts.slice(2) : parts.slice(1)).filter((a) => a.length > 0)
    if (!KEYWORD.test(keyword)) throw new WireError('bad-value', `${what}: bad keyword line ${JSON.stringify(line.slice(0, 40))}`)
    const item: NetdocItem = { keyword, args, start, end: pos }
    if (text.startsWith('-----BEGIN ', pos)) {
      const bl = text.indexOf('\n', pos)
      if (bl < 0) throw new WireError('truncated', `${what}: object header without newline`)
      const begin = /^-----BEGIN ([A-Za-z0-9 ]+)-----$/.exec(text.slice(pos, bl))
      if (!begin) throw new WireError('bad-value', `${what}: bad object header`)
      const endLine = `-----END ${begin[1]}-----`
      const endAt = text.indexOf(`\n${endLine}\n`, bl)
      if (endAt < 0) throw new WireError('truncated', `${what}: object ${begin[1]} never ends`)
      const body = text.slice(bl + 1, endAt + 1).replace(/\n/g, '')
      if (!B64.test(body)) throw new WireError('bad-value', `${what}: object ${begin[1]} is not base64`)
      item.object = { type: begin[1], bytes: new Uint8Array(Buffer.from(body, 'base64')) }
      pos = endAt + 1 + endLine.length + 1
      item.end = pos
    }
    items.push(item)
  }
  return items
}

/** Parses `YYYY-MM-DD HH:MM:SS` (UTC) from two arguments into ms since the epoch. */
export function parseTime(date: string | undefined, time: string | undefined, what: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date ?? '')
  const t = /^(\d{2}):(\d{2}):(\d{2})$/.exec(time ?? '')
  if (!m || !t) throw new WireError('bad-value', `${what}: bad time "${date} ${time}"`)
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +t[1], +t[2], +t[3])
  if (!Number.isFinite(ms)) throw new WireError('bad-value', `${what}: bad time`)
  return ms
}

/** `YYYY-MM-DD HH:MM:SS` in UTC (dir-spec's time format). */
export function formatDirTime(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0 || ms >= Date.UTC(10000, 0, 1)) throw new WireError('bad-value', `directory time ${ms} out of range`)
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ')
}

/** Base64 without padding (as in consensus identities and digests) to bytes of an exact length. */
export function base64Exact(s: string | undefined, len: number, what: string): Uint8Array {
  if (s === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) throw new WireError('bad-value', `${what}: not base64`)
  const b = new Uint8Array(Buffer.from(s, 'base64'))
  if (b.length !== len) throw new WireError('bad-length', `${what}: ${b.length} bytes, want ${len}`)
  return b
}

export function hexExact(s: string | undefined, len: number, what: string): Uint8Array {
  if (s === undefined || !/^[0-9A-Fa-f]*$/.test(s) || s.length !== len * 2) throw new WireError('bad-value', `${what}: want ${len} bytes of hex`)
  return new Uint8Array(Buffer.from(s, 'hex'))
}

export function intArg(s: string | undefined, what: string, min = 0, max = 0xffffffff): number {
  if (s === undefined || !/^-?\d{1,10}$/.test(s)) throw new WireError('bad-value', `${what}: not an integer`)
  const n = Number(s)
  if (n < min || n > max) throw new WireError('bad-value', `${what}: ${n} out of range`)
  return n
}

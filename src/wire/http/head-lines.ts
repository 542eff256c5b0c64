// Splits an HTTP/1.1 message head into its start line and field lines (RFC 9112 §2.1, §5), under
// limits. Stateless: callers re-run it on the grown buffer. Every line is judged once complete,
// in order, size before content, so any prefix of a stream gives `truncated` or the very error
// the whole stream gives, and a peer that never sends CRLFCRLF hits `too-large`, not our memory.

import { WireError } from '../bytes.js'
import { type HeaderField } from './fields.js'
import type { HeadLimits } from './limits.js'
import { isFieldValueChar, isTchar, latin1 } from './syntax.js'

const CR = 0x0d
const LF = 0x0a
const SP = 0x20
const HTAB = 0x09

export interface HeadLines {
  startLine: string
  fields: HeaderField[]
  /** Bytes of the head including the final empty line; the body starts here. */
  used: number
}

export function readHeadLines(buf: Uint8Array, limits: HeadLimits, what: string, skipLeadingEmptyLines: boolean): HeadLines {
  let pos = 0
  let startLine: string | undefined
  const fields: HeaderField[] = []
  for (;;) {
    const end = Math.min(buf.length, pos + limits.maxLineBytes + 2, limits.maxHeadBytes)
    const lf = buf.subarray(pos, end).indexOf(LF)
    if (lf < 0) {
      if (end === pos + limits.maxLineBytes + 2) throw new WireError('too-large', `${what}: line longer than ${limits.maxLineBytes} bytes`)
      if (end === limits.maxHeadBytes) throw new WireError('too-large', `${what}: head longer than ${limits.maxHeadBytes} bytes`)
      throw WireError.truncated(1, what)
    }
    const lineEnd = pos + lf
    if (lf === 0 || buf[lineEnd - 1] !== CR) throw new WireError('bad-value', `${what}: LF without CR`)
    const line = buf.subarray(pos, lineEnd - 1)
    if (line.length > limits.maxLineBytes) throw new WireError('too-large', `${what}: line longer than ${limits.maxLineBytes} bytes`)
    pos = lineEnd + 1
    if (line.length === 0) {
      // RFC 9112 §2.2: a server SHOULD ignore empty lines received before the request-line.
      if (startLine === undefined) {
        if (skipLeadingEmptyLines) continue
        throw new WireError('bad-value', `${what}: empty start line`)
      }
      return { startLine, fields, used: pos }
    }
    if (line.includes(CR)) throw new WireError('bad-value', `${what}: CR inside a line`)
    if (startLine === undefined) {
      startLine = latin1(line)
      continue
    }
    if (fields.length === limits.maxHeaders) throw new WireError('too-large', `${what}: more than ${limits.maxHeaders} header fields`)
    fields.push(parseFieldLine(line, what))
  }
}

/** field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). */
function parseFieldLine(line: Uint8Array, what: string): HeaderField {
  // RFC 9112 §5.2: obs-fold is deprecated; rejecting it is one of the two allowed answers.
  if (line[0] === SP || line[0] === HTAB) throw new WireError('bad-value', `${what}: obs-fold line folding`)
  const colon = line.indexOf(0x3a)
  if (colon <= 0) throw new WireError('bad-value', `${what}: field line without a name and colon`)
  for (let i = 0; i < colon; i++) {
    // RFC 9112 §5.1: whitespace between name and colon MUST be rejected (smuggling vector).
    if (!isTchar(line[i])) throw new WireError('bad-value', `${what}: octet 0x${line[i].toString(16)} in a field name`)
  }
  let a = colon + 1
  let b = line.length
  while (a < b && (line[a] === SP || line[a] === HTAB)) a++
  while (b > a && (line[b - 1] === SP || line[b - 1] === HTAB)) b--
  for (let i = a; i < b; i++) {
    if (!isFieldValueChar(line[i])) throw new WireError('bad-value', `${what}: octet 0x${line[i].toString(16)} in a field value`)
  }
  return [latin1(line.subarray(0, colon)), latin1(line.subarray(a, b))]
}

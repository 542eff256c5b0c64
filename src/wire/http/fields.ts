// Header fields as they arrived: [name, value] pairs in original order and case, with
// case-insensitive lookup, and the field checks shared by requests and responses.

import { WireError } from '../bytes.js'
import { isFieldValue, isToken } from './syntax.js'

export type HeaderField = [name: string, value: string]

export class HeaderLookup {
  constructor(readonly headers: HeaderField[]) {}

  /** Every value of `name`, one per field line, in order. */
  getAll(name: string): string[] {
    const n = name.toLowerCase()
    return this.headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v)
  }

  /**
   * The combined value (RFC 9110 §5.3: lines joined with ", "), or undefined if absent.
   * Not for Set-Cookie, whose values may contain commas: use getAll.
   */
  get(name: string): string | undefined {
    const all = this.getAll(name)
    return all.length === 0 ? undefined : all.join(', ')
  }
}

/** Splits a #list field value into its non-empty elements (RFC 9110 §5.6.1). */
export function listElements(values: string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((e) => e.trim()).filter((e) => e.length > 0)
}

/**
 * Content-Length (RFC 9110 §8.6, RFC 9112 §6.3): every value must be the same run of digits;
 * a list or repeated field with differing values is unrecoverable framing, so an error.
 */
export function contentLength(h: HeaderLookup, what: string): number | undefined {
  const values = h.getAll('content-length')
  if (values.length === 0) return undefined
  const elements = values.flatMap((v) => v.split(',')).map((e) => e.trim())
  let n: number | undefined
  for (const e of elements) {
    if (!/^[0-9]{1,15}$/.test(e)) throw new WireError('bad-value', `${what}: Content-Length ${JSON.stringify(e)}`)
    const v = Number(e)
    if (n !== undefined && n !== v) throw new WireError('bad-value', `${what}: conflicting Content-Length values`)
    n = v
  }
  return n
}

export function checkField([name, value]: HeaderField, what: string): void {
  if (!isToken(name)) throw new WireError('bad-value', `${what}: bad field name ${JSON.stringify(name)}`)
  if (!isFieldValue(value)) throw new WireError('bad-value', `${what}: bad value for ${name}`)
}

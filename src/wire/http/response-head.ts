// HTTP/1.1 response head (RFC 9112 §4): status-line = HTTP-version SP status-code SP [reason-phrase].

import { WireError } from '../bytes.js'
import { checkField, contentLength, HeaderLookup, type HeaderField } from './fields.js'
import { readHeadLines } from './head-lines.js'
import { headLimits, type HeadLimits } from './limits.js'
import { checkVersion, isFieldValueChar, latin1Bytes } from './syntax.js'

export interface ResponseHeadFields {
  version: string
  status: number
  reason: string
  headers: HeaderField[]
}

export class ResponseHead extends HeaderLookup implements ResponseHeadFields {
  constructor(
    readonly version: string,
    readonly status: number,
    readonly reason: string,
    headers: HeaderField[],
  ) {
    super(headers)
  }
}

const WHAT = 'HTTP response head'

export function parseResponseHead(buf: Uint8Array, limits?: Partial<HeadLimits>): { head: ResponseHead; used: number } {
  const { startLine, fields, used } = readHeadLines(buf, headLimits(limits), WHAT, false)
  const sp1 = startLine.indexOf(' ')
  if (sp1 < 0) throw new WireError('bad-value', `${WHAT}: status-line without a status code`)
  const version = startLine.slice(0, sp1)
  checkVersion(version, WHAT)
  const rest = startLine.slice(sp1 + 1)
  // §4: the SP before an empty reason-phrase is required, but "HTTP/1.1 200" is seen in the wild
  // and is unambiguous, so it is read as an empty reason.
  const statusText = rest.length === 3 ? rest : rest.slice(0, 3)
  if (rest.length > 3 && rest[3] !== ' ') throw new WireError('bad-value', `${WHAT}: status-code is not three digits`)
  if (!/^[1-5][0-9][0-9]$/.test(statusText)) {
    // RFC 9110 §15: valid status codes are 100–599.
    throw new WireError('bad-value', `${WHAT}: status-code ${JSON.stringify(statusText)}`)
  }
  const reason = rest.length > 3 ? rest.slice(4) : ''
  checkReason(reason)
  const head = new ResponseHead(version, Number(statusText), reason, fields)
  contentLength(head, WHAT)
  return { head, used }
}

function checkReason(reason: string): void {
  // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
  for (let i = 0; i < reason.length; i++) {
    if (!isFieldValueChar(reason.charCodeAt(i))) throw new WireError('bad-value', `${WHAT}: control octet in reason-phrase`)
  }
}

export function encodeResponseHead(h: ResponseHeadFields): Uint8Array {
  checkVersion(h.version, WHAT)
  if (!Number.isInteger(h.status) || h.status < 100 || h.status > 599) throw new WireError('bad-value', `${WHAT}: status ${h.status}`)
  checkReason(h.reason)
  for (const f of h.headers) checkField(f, WHAT)
  contentLength(new ResponseHead(h.version, h.status, h.reason, h.headers), WHAT)
  const lines = [`${h.version} ${h.status} ${h.reason}`, ...h.headers.map(([n, v]) => `${n}: ${v}`)]
  return latin1Bytes(lines.join('\r\n') + '\r\n\r\n')
}

// HTTP/1.1 request head (RFC 9112 §3): request-line CRLF *( field-line CRLF ) CRLF.

import { WireError } from '../bytes.js'
import { checkField, contentLength, HeaderLookup, type HeaderField } from './fields.js'
import { readHeadLines } from './head-lines.js'
import { headLimits, type HeadLimits } from './limits.js'
import { targetForm, type TargetForm } from './request-target.js'
import { checkVersion, isToken, latin1Bytes } from './syntax.js'

export interface RequestHeadFields {
  method: string
  target: string
  version: string
  headers: HeaderField[]
}

export class RequestHead extends HeaderLookup implements RequestHeadFields {
  readonly targetForm: TargetForm
  constructor(
    readonly method: string,
    readonly target: string,
    readonly version: string,
    headers: HeaderField[],
  ) {
    super(headers)
    this.targetForm = targetForm(method, target)
  }
}

const WHAT = 'HTTP request head'

/**
 * Parses the head at the front of `buf`. Throws `truncated` until the empty line arrives,
 * `too-large` past a limit, `bad-value`/`unsupported` for what RFC 9112 forbids. `used` is where
 * the body (or the tunnelled bytes after CONNECT) begins; nothing after it is looked at.
 */
export function parseRequestHead(buf: Uint8Array, limits?: Partial<HeadLimits>): { head: RequestHead; used: number } {
  const { startLine, fields, used } = readHeadLines(buf, headLimits(limits), WHAT, true)
  // request-line = method SP request-target SP HTTP-version; exactly single spaces (§3).
  const parts = startLine.split(' ')
  if (parts.length !== 3) throw new WireError('bad-value', `${WHAT}: request-line is not "method SP target SP version"`)
  const [method, target, version] = parts
  if (!isToken(method)) throw new WireError('bad-value', `${WHAT}: bad method ${JSON.stringify(method)}`)
  checkVersion(version, WHAT)
  const head = new RequestHead(method, target, version, fields)
  checkRequestFraming(head)
  return { head, used }
}

function checkRequestFraming(head: RequestHead): void {
  // §3.2: an HTTP/1.1 request with no Host, or more than one, MUST get a 400.
  const hosts = head.getAll('host').length
  if (hosts > 1 || (hosts === 0 && head.version !== 'HTTP/1.0')) {
    throw new WireError('bad-value', `${WHAT}: ${hosts} Host fields`)
  }
  const length = contentLength(head, WHAT)
  // §6.3: Transfer-Encoding with Content-Length is a smuggling signal; a server may reject it.
  if (length !== undefined && head.getAll('transfer-encoding').length > 0) {
    throw new WireError('bad-value', `${WHAT}: both Transfer-Encoding and Content-Length`)
  }
}

/** Refuses what parseRequestHead would refuse, so nothing we send is a smuggling candidate. */
export function encodeRequestHead(h: RequestHeadFields): Uint8Array {
  if (!isToken(h.method)) throw new WireError('bad-value', `${WHAT}: bad method ${JSON.stringify(h.method)}`)
  checkVersion(h.version, WHAT)
  for (const f of h.headers) checkField(f, WHAT)
  checkRequestFraming(new RequestHead(h.method, h.target, h.version, h.headers))
  const lines = [`${h.method} ${h.target} ${h.version}`, ...h.headers.map(([n, v]) => `${n}: ${v}`)]
  return latin1Bytes(lines.join('\r\n') + '\r\n\r\n')
}

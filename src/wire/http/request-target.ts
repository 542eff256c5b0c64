// The four forms of request-target (RFC 9112 §3.2) and which methods may use which.

import { WireError } from '../bytes.js'
import { parseAuthority } from './authority.js'

export type TargetForm = 'origin' | 'absolute' | 'authority' | 'asterisk'

/** Visible ASCII only: a target never holds spaces, controls or raw non-ASCII octets. */
const VISIBLE = /^[\x21-\x7e]+$/

export function targetForm(method: string, target: string, what = 'request-target'): TargetForm {
  if (!VISIBLE.test(target)) throw new WireError('bad-value', `${what}: ${JSON.stringify(target)} is not visible ASCII`)
  // §3.2.3: CONNECT takes authority-form and nothing else.
  if (method === 'CONNECT') {
    parseAuthority(target, what)
    return 'authority'
  }
  if (target === '*') {
    // §3.2.4: asterisk-form is only for a server-wide OPTIONS.
    if (method !== 'OPTIONS') throw new WireError('bad-value', `${what}: "*" with ${method}`)
    return 'asterisk'
  }
  if (target.startsWith('/')) return 'origin'
  // §3.2.2: absolute-URI = scheme ":" hier-part [ "?" query ].
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(target)) return 'absolute'
  throw new WireError('bad-value', `${what}: ${JSON.stringify(target)} is in no request-target form`)
}

// Where a CONNECT request wants its tunnel to go (RFC 9110 §9.3.6, RFC 9112 §3.2.3).

import { WireError } from '../bytes.js'
import { parseAuthority, type Authority } from './authority.js'
import type { RequestHead } from './request-head.js'

export function connectAuthority(head: Pick<RequestHead, 'method' | 'target'>): Authority {
  if (head.method !== 'CONNECT') throw new WireError('bad-value', `not a CONNECT request: ${head.method}`)
  return parseAuthority(head.target, 'CONNECT target')
}

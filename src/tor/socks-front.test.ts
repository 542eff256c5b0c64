// The front's two policies that are pure functions: END reasons -> SOCKS5 replies (as tor's
// connection_edge.c maps them) and SOCKS credentials -> isolation keys (prop 351).

import { describe, expect, it } from 'vitest'
import { EndReason } from '../wire/tor/relay-msg.js'
import { CircuitError, StreamError } from './errors.js'
import { isolationKey, socksReplyFor } from './socks-front.js'

describe('socks front policies', () => {
  it('maps END reasons to SOCKS5 reply codes', () => {
    const end = (r: number) => socksReplyFor(new StreamError('end', 'x', r))
    expect(end(EndReason.RESOLVEFAILED)).toBe('hostUnreachable')
    expect(end(EndReason.CONNECTREFUSED)).toBe('connectionRefused')
    expect(end(EndReason.EXITPOLICY)).toBe('notAllowed')
    expect(end(EndReason.NOROUTE)).toBe('networkUnreachable')
    expect(end(EndReason.TIMEOUT)).toBe('ttlExpired')
    expect(end(EndReason.MISC)).toBe('generalFailure')
    expect(socksReplyFor(new StreamError('timeout', 'x'))).toBe('ttlExpired')
    expect(socksReplyFor(new CircuitError('destroyed', 'x'))).toBe('generalFailure')
  })

  it('keys isolation by credentials; <torS0X>0 isolates by the password alone', () => {
    expect(isolationKey()).toBe('')
    expect(isolationKey('a', 'b')).not.toBe(isolationKey('a', 'c'))
    expect(isolationKey('a', 'b')).not.toBe(isolationKey('ab', ''))
    expect(isolationKey('<torS0X>0', 'k')).toBe(isolationKey('<torS0X>0', 'k'))
    expect(isolationKey('<torS0X>0', 'k')).not.toBe(isolationKey('<torS0X>0', 'j'))
  })
})

// Post-handshake message splitting. Vectors are built from RFC 8446's wire format (§4: msg_type u8,
// length u24; §4.6.1 NewSessionTicket = 4, §4.6.3 KeyUpdate = 24 with a one-byte request_update,
// §4.3.2 CertificateRequest = 13), not from the code under test.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { postHandshakeProblem, postHandshakeTypes } from './post-handshake.js'

const msg = (type: number, body: number[]) => [type, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff, ...body]
// A NewSessionTicket body: lifetime u32, age_add u32, nonce <0..255>, ticket <1..2^16-1>, extensions <0..2^16-2>.
const nst = msg(4, [0, 0, 0x1c, 0x20, 1, 2, 3, 4, 1, 0, 0, 3, 9, 9, 9, 0, 0])
const keyUpdate = msg(24, [0]) // update_not_requested

describe('post-handshake records', () => {
  it('a record with two tickets is fine and counts 2', () => {
    const rec = Uint8Array.from([...nst, ...nst])
    expect(postHandshakeTypes(rec)).toEqual([4, 4])
    expect(postHandshakeProblem(rec)).toBeUndefined()
  })

  it('a KeyUpdate, alone or after a ticket in the same record, is reported as such', () => {
    for (const rec of [keyUpdate, [...nst, ...keyUpdate]]) expect(postHandshakeProblem(Uint8Array.from(rec))).toMatch(/KeyUpdate/)
  })

  it('a post-handshake CertificateRequest is an unexpected type', () => {
    expect(postHandshakeProblem(Uint8Array.from(msg(13, [0, 0, 0])))).toBe('unexpected post-handshake message type 13')
  })

  it('a message cut short is a problem, not a crash', () => {
    expect(postHandshakeProblem(Uint8Array.from(nst.slice(0, -1)))).toMatch(/whole messages/)
  })

  it('never throws on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const p = postHandshakeProblem(b)
      expect(p === undefined || typeof p === 'string').toBe(true)
    }))
  })
})

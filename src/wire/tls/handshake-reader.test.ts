import { describe, expect, it } from 'vitest'
import { concatBytes, fromHex } from '../bytes.js'
import { encodeHandshake } from './handshake.js'
import { type HandshakeEvent, HandshakeReader } from './handshake-reader.js'

const msg = (type: number, n: number) => encodeHandshake({ msgType: type, body: new Uint8Array(n).fill(type) })
const summary = (evs: HandshakeEvent[]) =>
  evs.map((e) => (e.kind === 'message' ? [e.message.msgType, e.message.body.length, e.message.firstRecord, e.message.lastRecord] : ['error', e.error.code, e.record]))

describe('HandshakeReader', () => {
  it('splits several messages out of one record', () => {
    // The TLS 1.2 server flight shape: ServerHello, Certificate, ServerHelloDone (empty body) in one record.
    const r = new HandshakeReader()
    expect(summary(r.push(concatBytes(msg(2, 70), msg(11, 900), msg(14, 0)), 1))).toEqual([
      [2, 70, 1, 1],
      [11, 900, 1, 1],
      [14, 0, 1, 1],
    ])
    expect(r.pending).toBe(0)
  })

  it('joins one message spread over several records, header split too', () => {
    const r = new HandshakeReader()
    const m = msg(11, 5000)
    expect(r.push(m.subarray(0, 2), 3)).toEqual([])
    expect(r.push(m.subarray(2, 3000), 4)).toEqual([])
    expect(r.pending).toBe(3000)
    expect(r.pendingSince).toBe(3)
    const evs = r.push(concatBytes(m.subarray(3000), msg(15, 10)), 5)
    expect(summary(evs)).toEqual([[11, 5000, 3, 5], [15, 10, 5, 5]])
    expect(evs[0].kind === 'message' && evs[0].message.raw).toEqual(m)
  })

  it('refuses a message longer than the limit as soon as its header arrives', () => {
    const r = new HandshakeReader({ maxMessageLength: 1000 })
    expect(summary(r.push(fromHex('0b0003e9'), 0))).toEqual([['error', 'too-large', 0]]) // 1001 bytes
    expect(r.failed).toBe(true)
    expect(r.push(msg(1, 3), 1)).toEqual([])
    const def = new HandshakeReader()
    expect(summary(def.push(concatBytes(msg(1, 3), fromHex('0b010001')), 7))).toEqual([[1, 3, 7, 7], ['error', 'too-large', 7]])
    expect(summary(new HandshakeReader().push(msg(11, 65536), 0))).toEqual([[11, 65536, 0, 0]])
  })
})

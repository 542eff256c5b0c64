// The stall detector fed by hand: bytes each way with their World times, then the verdict. Records
// are framed with the codec's encodeRecordHeader (RFC 8446 §5.1 TLSPlaintext/TLSCiphertext
// header); their bodies are filler, as the detector never reads them.

import { describe, expect, it } from 'vitest'
import { concatBytes } from '../wire/bytes.js'
import { ContentType, encodeRecordHeader } from '../wire/tls/record.js'
import { describeStall, STALL_DEFAULTS, StallDetector } from './stall-detector.js'

const rec = (type: number, len: number) => concatBytes(encodeRecordHeader(type, 0x0303, len), new Uint8Array(len).fill(0xaa))
const app = (len: number) => rec(ContentType.applicationData, len)
const CCS = rec(ContentType.changeCipherSpec, 1)
/** What a TLS 1.3 client sends after the server's flight: CCS (compatibility mode) and Finished, both before any request. */
const FINISHED = concatBytes(CCS, app(53))
const { midRecordMs, unansweredMs, gapFactor } = STALL_DEFAULTS

/** A TLS 1.3 connection at t=1000 with the server's first flight handed over and the client's Finished sent. */
function handshaken(tls13 = true): StallDetector {
  const d = new StallDetector({ tls13 }, 1000)
  d.server(concatBytes(rec(ContentType.handshake, 90), CCS, app(2000)), 1000)
  d.client(tls13 ? FINISHED : rec(ContentType.handshake, 40), 1050)
  return d
}

describe('StallDetector', () => {
  it('a response that stops inside a record after coming in fast is a mid-record stall, judged at the bound', () => {
    const d = handshaken()
    d.client(app(300), 1060) // the request
    const body = app(16_000)
    d.server(body.subarray(0, 6000), 1100)
    d.server(body.subarray(6000, 12_000), 1120)
    expect(d.deadline()).toBe(1120 + midRecordMs)
    expect(d.check(1120 + midRecordMs - 1)).toBeUndefined()
    const s = d.check(1120 + midRecordMs)
    expect(s).toMatchObject({ kind: 'mid-record', silentMs: midRecordMs, downMs: 120 })
    expect(s!.down).toBe(95 + 6 + 2005 + 12_000)
    expect(s!.up).toBe(FINISHED.length + 305)
    expect(d.state).toBe('stalled')
    expect(describeStall(s!)).toMatch(/inside a TLS record after 14106 B down/)
    // One verdict per connection.
    expect(d.check(1_000_000)).toBeUndefined()
  })

  it('an idle keep-alive connection is never a stall: the response ended on a record boundary, nothing is asked', () => {
    const d = handshaken()
    d.client(app(300), 1060)
    d.server(app(5000), 1200)
    expect(d.deadline()).toBeUndefined()
    expect(d.check(1200 + 3_600_000)).toBeUndefined()
    expect(d.state).toBe('watching')
  })

  it("TLS 1.3: the client's Finished alone is not a request (an idle preconnect); its first application_data after it is", () => {
    const idle = handshaken()
    expect(idle.deadline()).toBeUndefined()
    expect(idle.check(1_000_000)).toBeUndefined()

    const d = handshaken()
    d.client(app(400), 2000)
    expect(d.deadline()).toBe(2000 + unansweredMs)
    expect(d.check(2000 + unansweredMs - 1)).toBeUndefined()
    expect(d.check(2000 + unansweredMs)).toMatchObject({ kind: 'unanswered', silentMs: unansweredMs })
  })

  it('TLS 1.2: the Finished is a handshake record, so the first application_data record is the request', () => {
    const d = handshaken(false)
    d.client(app(400), 2000)
    expect(d.check(2000 + unansweredMs)?.kind).toBe('unanswered')
  })

  it('only the first exchange counts as unanswered: later client records (HTTP/2 WINDOW_UPDATE, PING ACK) may get no answer', () => {
    const d = handshaken()
    d.client(app(400), 2000)
    d.server(app(3000), 2100)
    d.client(app(13), 2200)
    expect(d.deadline()).toBeUndefined()
    expect(d.check(2200 + 3_600_000)).toBeUndefined()
  })

  it('a connection that has been slow all along gets a longer bound (the bytes before must have come in fast)', () => {
    const d = handshaken()
    const body = app(16_000)
    d.server(body.subarray(0, 100), 1100)
    d.server(body.subarray(100, 200), 1100 + 3000) // a 3 s wait inside a record: a slow link
    expect(d.deadline()).toBe(4100 + gapFactor * 3000)
    expect(d.check(4100 + midRecordMs)).toBeUndefined()
    expect(d.check(4100 + gapFactor * 3000)?.longestWaitMs).toBe(3000)
  })

  it('a client holding the stream back (not reading) restarts the clock', () => {
    const d = handshaken()
    d.server(app(16_000).subarray(0, 9000), 1100)
    d.clientHolding(1100 + midRecordMs)
    expect(d.check(1100 + midRecordMs)).toBeUndefined()
    expect(d.deadline()).toBe(1100 + 2 * midRecordMs)
    expect(d.check(1100 + 2 * midRecordMs)?.kind).toBe('mid-record')
  })

  it('server bytes after the verdict take it back (slow, not frozen) and end the watch', () => {
    const d = handshaken()
    d.server(app(16_000).subarray(0, 9000), 1100)
    const s = d.check(1100 + midRecordMs)
    expect(s).toBeDefined()
    expect(d.server(new Uint8Array(10), 9000)).toBe(s)
    expect(d.state).toBe('done')
  })

  it('stops watching past the window, on non-TLS bytes, and when the connection ends', () => {
    const big = new StallDetector({ tls13: true, windowBytes: 10_000 }, 0)
    big.server(app(16_000).subarray(0, 10_001), 10)
    expect(big.state).toBe('done')
    expect(big.check(1_000_000)).toBeUndefined()

    const http = new StallDetector({ tls13: true }, 0)
    http.server(new TextEncoder().encode('HTTP/1.1 200 OK\r\n'), 10)
    expect(http.state).toBe('done')
    expect(http.doneWhy).toMatch(/not TLS records/)

    const ended = handshaken()
    ended.server(app(16_000).subarray(0, 9000), 1100)
    ended.ended('closed')
    expect(ended.check(1_000_000)).toBeUndefined()
  })

  it('how the bytes are chunked does not change the verdict', () => {
    const stream = concatBytes(app(700), app(16_000).subarray(0, 5000))
    const at = (cuts: number[]) => {
      const d = new StallDetector({ tls13: true }, 0)
      let from = 0
      for (const c of [...cuts, stream.length]) d.server(stream.subarray(from, (from = c)), 50)
      return d.check(50 + midRecordMs)
    }
    const whole = at([])
    expect(whole?.kind).toBe('mid-record')
    for (const cuts of [[1], [4, 5, 6], [705, 706, 709, 710], [2000, 4000]]) expect(at(cuts)).toEqual(whole)
  })
})

// Flow control of one OOB stream in isolation: a fake multiplexer records the frames the stream sends.

import { describe, expect, it } from 'vitest'
import type { OobFrame } from './frame.js'
import { OobStream, type StreamHost } from './stream.js'

function fakeHost(): StreamHost & { frames: OobFrame[] } {
  const frames: OobFrame[] = []
  return { frames, maxPayload: 16_384, canSend: true, send: (f) => frames.push(f), forget: () => {} }
}

const windowIncrements = (h: { frames: OobFrame[] }) =>
  h.frames.flatMap((f) => (f.type === 'window' ? [f.increment] : []))

describe('OobStream receive window', () => {
  it('grants credit back when the peer has run out, even for a small read (the 1 GiB bench stall)', async () => {
    const host = fakeHost()
    const s = new OobStream(host, 1, 1000)
    // The peer uses its whole window; the reader then takes a little at a time.
    expect(s.deliver(new Uint8Array(1000))).toBe(true)
    expect(s.read(100)?.length).toBe(100)
    await Promise.resolve()
    // Peer credit is 0: without a WINDOW now, no DATA can come, no push happens, and Node never
    // calls _read again — the stream would stall for good.
    expect(windowIncrements(host)).toEqual([100])
  })

  it('carries any amount through a window far smaller than the transfer, read in small pieces', async () => {
    const host = fakeHost()
    const s = new OobStream(host, 1, 1000)
    let credit = 1000 // what the peer may still send
    let sent = 0
    let read = 0
    const total = 50_000
    for (let step = 0; step < 10_000 && read < total; step++) {
      // The peer sends whatever its credit allows.
      const n = Math.min(credit, total - sent, 300)
      if (n > 0) {
        expect(s.deliver(new Uint8Array(n))).toBe(true)
        credit -= n
        sent += n
      }
      const got = s.read(Math.min(70, s.readableLength))
      if (got) read += got.length
      await Promise.resolve()
      for (const inc of windowIncrements(host).splice(0)) credit += inc
      host.frames.length = 0
    }
    expect(read).toBe(total)
  })

  it('treats DATA beyond the granted window as a protocol error', () => {
    const s = new OobStream(fakeHost(), 1, 1000)
    expect(s.deliver(new Uint8Array(1000))).toBe(true)
    expect(s.deliver(new Uint8Array(1))).toBe(false)
  })
})

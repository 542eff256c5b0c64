// Sans-IO deframer for the OOB channel: push bytes as they arrive, get whole frames. Holds at most
// one frame (header + maxPayload) plus the current chunk; the first malformed frame stops it.

import { WireError } from '../../wire/bytes.js'
import { decodeFrame, MAX_FRAME_PAYLOAD, type OobFrame } from './frame.js'

export type FrameEvent = { kind: 'frame'; frame: OobFrame } | { kind: 'error'; error: WireError }

export class FrameReader {
  private buf = new Uint8Array(0)
  private stopped = false
  constructor(private readonly maxPayload = MAX_FRAME_PAYLOAD) {}

  get failed(): boolean {
    return this.stopped
  }
  get buffered(): number {
    return this.buf.length
  }

  push(chunk: Uint8Array): FrameEvent[] {
    if (this.stopped) return []
    const all = this.buf.length === 0 ? chunk : concat(this.buf, chunk)
    const events: FrameEvent[] = []
    let at = 0
    while (at < all.length) {
      try {
        const { frame, used } = decodeFrame(all.subarray(at), this.maxPayload)
        events.push({ kind: 'frame', frame })
        at += used
      } catch (e) {
        if (!(e instanceof WireError)) throw e
        if (e.code === 'truncated') break
        this.stopped = true
        events.push({ kind: 'error', error: e })
        this.buf = new Uint8Array(0)
        return events
      }
    }
    this.buf = all.slice(at)
    return events
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

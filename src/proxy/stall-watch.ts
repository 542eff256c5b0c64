// The StallDetector on a live tunnel: taps both directions of a splice (listeners only: the pipe
// keeps moving the bytes), keeps one World timer at the detector's deadline, and says when the
// flow froze (or, later, that it was not frozen after all). It never touches the connection: a
// frozen TLS connection cannot be moved to another strategy (its keys and sequence numbers belong
// to that TCP stream), so the browser's retry is what gets the next strategy.

import type { Conn, Timer, World } from '../net/world.js'
import { type Stall, StallDetector, type StallOptions } from './stall-detector.js'

export interface StallWatchHooks {
  /** The flow froze. */
  stalled(s: Stall): void
  /** Server bytes came after stalled(): it was slow, not frozen. */
  resumed?(s: Stall, afterMs: number): void
}

export interface StallWatch {
  readonly detector: StallDetector
  stop(): void
}

/**
 * Watches `upstream` → `client` from now on. `serverBytes` are the server's bytes already handed
 * to the client (from its ServerHello on); call before splice() so no chunk is missed.
 */
export function watchStall(world: World, client: Conn, upstream: Conn, serverBytes: readonly Uint8Array[], o: StallOptions, hooks: StallWatchHooks): StallWatch {
  const det = new StallDetector(o, world.now())
  for (const b of serverBytes) det.server(b, world.now())
  let timer: Timer | undefined
  let timerAt = Infinity
  let stalledAt = 0
  // One timer, at or before the deadline: a later deadline lets it fire early and re-arm; an
  // earlier one (a request pending, then a record cut: the bound shrinks) replaces it.
  const arm = () => {
    if (det.state !== 'watching') return
    const at = det.deadline()
    if (at === undefined || (timer && timerAt <= at)) return
    timer?.cancel()
    timerAt = at
    timer = world.setTimer(Math.max(0, at - world.now()), fire)
  }
  const fire = () => {
    timer = undefined
    // Bytes queued towards the client: it is the one not reading, the path may be fine.
    if (client.writableLength > 0) det.clientHolding(world.now())
    const s = det.check(world.now())
    if (s) {
      stalledAt = world.now()
      hooks.stalled(s)
    }
    arm()
  }
  const onDown = (d: Buffer) => {
    const ended = det.server(d, world.now())
    if (ended) hooks.resumed?.(ended, world.now() - stalledAt)
    if (det.state !== 'watching') return stop()
    arm()
  }
  const onUp = (d: Buffer) => {
    det.client(d, world.now())
    if (det.state !== 'watching') return stop()
    arm()
  }
  const onEnd = () => {
    det.ended('the server ended the stream')
    detach()
  }
  const onClose = () => {
    det.ended('closed')
    detach()
  }
  const detach = () => {
    timer?.cancel()
    timer = undefined
    upstream.off('data', onDown)
    client.off('data', onUp)
    upstream.off('end', onEnd)
    upstream.off('close', onClose)
    client.off('close', onClose)
  }
  // After a verdict the tap stays, to hear a resumption; anything else that ends the watch ends it all.
  const stop = () => {
    if (det.state === 'stalled') {
      timer?.cancel()
      timer = undefined
      return
    }
    detach()
  }
  upstream.on('data', onDown)
  client.on('data', onUp)
  upstream.on('end', onEnd)
  upstream.on('close', onClose)
  client.on('close', onClose)
  arm()
  return {
    detector: det,
    stop: () => {
      det.ended('stopped')
      detach()
    },
  }
}

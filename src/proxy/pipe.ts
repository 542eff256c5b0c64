// After the first flight: copy bytes both ways with stream back-pressure (pipe), propagate
// half-close (FIN one way leaves the other way open), and tear both down when one side fails.
// Bytes stay in Buffers handed from stream to stream; nothing is accumulated in JS strings.

import type { Conn } from '../net/world.js'

export interface SpliceResult {
  /** Bytes client → upstream and upstream → client. */
  up: number
  down: number
  /** First error seen on either side, if any. */
  error: Error | undefined
}

/** RST where the socket can (node:net resetAndDestroy), else a plain destroy. */
export function abort(c: Conn): void {
  const r = (c as { resetAndDestroy?: () => void }).resetAndDestroy
  if (typeof r === 'function' && !c.destroyed) {
    try {
      r.call(c)
      return
    } catch {
      // not connected any more: fall through
    }
  }
  c.destroy()
}

export function splice(client: Conn, upstream: Conn): Promise<SpliceResult> {
  return new Promise((resolve) => {
    const result: SpliceResult = { up: 0, down: 0, error: undefined }
    let closed = 0
    const onClose = (self: Conn, other: Conn) => () => {
      // Closed before its readable side ended: it was reset or failed, so the other side goes too.
      if (!self.readableEnded) abort(other)
      if (++closed === 2) resolve(result)
    }
    const onError = (other: Conn) => (e: Error) => {
      result.error ??= e
      abort(other)
    }
    client.on('data', (d: Buffer) => (result.up += d.length))
    upstream.on('data', (d: Buffer) => (result.down += d.length))
    client.on('error', onError(upstream))
    upstream.on('error', onError(client))
    client.once('close', onClose(client, upstream))
    upstream.once('close', onClose(upstream, client))
    client.pipe(upstream)
    upstream.pipe(client)
    client.resume()
    upstream.resume()
  })
}

/** Writes `bytes` and resolves once they were handed to the socket (write callback). */
export function writeAll(c: Conn, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (bytes.length === 0) return resolve()
    c.write(bytes, (err) => (err ? reject(err) : resolve()))
  })
}

// A BEGIN_DIR stream (tor-spec §6.2, dir-spec §6): the relay acts as a directory cache on the
// circuit itself, with no TCP connection. CONNECTED goes at once; the client's DATA carries one
// HTTP/1.0 request, answered by the owner's `dirRequest(path)`; the response is packaged like any
// exit data (windows and all) and followed by END DONE.

import { WireError, concatBytes } from '../../wire/bytes.js'
import { encodeResponseHead, parseRequestHead } from '../../wire/http/index.js'
import { EdgeStream, type EdgeCircuit } from './edge-stream.js'

export interface DirResponse {
  status: number
  body: string
}

/** Serves one directory path (e.g. "/tor/status-vote/current/consensus-microdesc"). */
export type DirRequestHandler = (path: string) => DirResponse

/** A request head longer than this is not a directory request. */
export const MAX_DIR_REQUEST = 16 * 1024

const REASONS: Record<number, string> = { 200: 'OK', 400: 'Bad request', 404: 'Not found', 405: 'Method not allowed', 500: 'Internal error', 503: 'Directory busy' }

/**
 * A directory response as a directory cache sends it, on a DirPort or a BEGIN_DIR stream: HTTP/1.0,
 * plain text, identity encoding, Content-Length, and the connection or stream ends after it.
 */
export function dirResponseBytes(status: number, body: string): { head: Uint8Array; body: Uint8Array } {
  const bytes = Buffer.from(body, 'latin1')
  const head = encodeResponseHead({
    version: 'HTTP/1.0',
    status,
    reason: REASONS[status] ?? 'Error',
    headers: [
      ['Content-Type', 'text/plain'],
      ['Content-Encoding', 'identity'],
      ['Content-Length', String(bytes.length)],
      ['Connection', 'close'],
    ],
  })
  return { head, body: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) }
}

export class DirStream extends EdgeStream {
  private request: Uint8Array = new Uint8Array(0)
  private answered = false

  constructor(
    circuit: EdgeCircuit,
    streamId: number,
    private readonly handler: DirRequestHandler,
  ) {
    super(circuit, streamId)
  }

  /** BEGIN_DIR accepted: CONNECTED carries no address for a directory stream. */
  begin(): void {
    this.state = 'open'
    this.circuit.sendRelay({ cmd: 'CONNECTED' }, this.streamId)
  }

  protected deliver(data: Uint8Array): boolean {
    if (this.answered) return true // bytes after the request (none from a well-behaved client) are dropped
    this.request = concatBytes(this.request, data)
    let path: string
    let status: number
    try {
      const { head } = parseRequestHead(this.request, { maxHeadBytes: MAX_DIR_REQUEST })
      if (head.method !== 'GET') {
        this.respond(400, '')
        return true
      }
      path = head.target
    } catch (e) {
      if (e instanceof WireError && e.code === 'truncated') return true
      this.respond(400, '')
      return true
    }
    let body = ''
    try {
      const r = this.handler(path)
      status = r.status
      body = r.body
    } catch (e) {
      this.circuit.world.trace('tor-dir-handler-failed', { path, why: (e as Error).message })
      status = 500
    }
    this.circuit.world.trace('tor-dir-request', { path, status, bytes: body.length })
    this.respond(status, body)
    return true
  }

  private respond(status: number, body: string): void {
    this.answered = true
    const r = dirResponseBytes(status, body)
    this.produce(r.head)
    this.produce(r.body)
    this.produceEnd()
  }

  protected onClientEnd(): void {}
  protected pauseSource(): void {}
  protected resumeSource(): void {}
  protected onClosedByUs(): void {}
  abort(): void {
    this.state = 'closed'
  }
}

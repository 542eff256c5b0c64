// HTTP/1.1 chunked transfer coding (RFC 9112 §7.1), decoded incrementally: bytes in, body bytes out.
// src/wire/http parses message heads only, so the body framing the client needs lives here.
// Bounded: a chunk-size line (with extensions) or trailer section beyond its limit is an error.

import { WireError } from '../wire/bytes.js'

const MAX_SIZE_LINE = 4096
const MAX_TRAILERS = 16 * 1024

type State = 'size' | 'data' | 'data-crlf' | 'trailers' | 'done'

export class ChunkedDecoder {
  private state: State = 'size'
  private line: number[] = []
  private remaining = 0
  private trailerBytes = 0
  /** Bytes after the final CRLF (they belong to whatever follows the message). */
  rest: Uint8Array = new Uint8Array(0)

  get done(): boolean {
    return this.state === 'done'
  }

  /** Feeds bytes; returns the body bytes they completed (views into `input`). */
  push(input: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = []
    let i = 0
    while (i < input.length && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, input.length - i)
        out.push(input.subarray(i, i + n))
        i += n
        this.remaining -= n
        if (this.remaining === 0) this.state = 'data-crlf'
        continue
      }
      const c = input[i++]
      if (c !== 0x0a) {
        this.line.push(c)
        const limit = this.state === 'trailers' ? MAX_TRAILERS : MAX_SIZE_LINE
        if (this.line.length > limit || (this.state === 'trailers' && ++this.trailerBytes > MAX_TRAILERS)) {
          throw new WireError('too-large', `chunked: ${this.state === 'trailers' ? 'trailer section' : 'chunk-size line'} too long`)
        }
        continue
      }
      const line = this.line
      this.line = []
      if (line.at(-1) !== 0x0d) throw new WireError('bad-value', 'chunked: line not ended by CRLF')
      line.pop()
      if (this.state === 'data-crlf') {
        if (line.length !== 0) throw new WireError('bad-length', 'chunked: chunk longer than its size')
        this.state = 'size'
      } else if (this.state === 'size') {
        this.remaining = chunkSize(line)
        this.state = this.remaining === 0 ? 'trailers' : 'data'
      } else if (line.length === 0) {
        this.state = 'done'
        this.rest = input.slice(i)
      }
    }
    return out
  }
}

/** chunk-size = 1*HEXDIG, then optional chunk-ext (";" ...), which we ignore. */
function chunkSize(line: number[]): number {
  let end = line.indexOf(0x3b)
  if (end < 0) end = line.length
  while (end > 0 && (line[end - 1] === 0x20 || line[end - 1] === 0x09)) end--
  if (end === 0) throw new WireError('bad-value', 'chunked: empty chunk-size')
  if (end > 13) throw new WireError('too-large', 'chunked: chunk-size too large')
  let n = 0
  for (let i = 0; i < end; i++) {
    const c = line[i]
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1
    if (d < 0) throw new WireError('bad-value', 'chunked: chunk-size is not hex')
    n = n * 16 + d
  }
  return n
}

/** Encodes a body as chunks of the given sizes (tests and lab servers). */
export function encodeChunked(chunks: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = []
  const enc = new TextEncoder()
  for (const c of chunks) {
    if (c.length === 0) continue
    parts.push(enc.encode(c.length.toString(16) + '\r\n'), c, enc.encode('\r\n'))
  }
  parts.push(enc.encode('0\r\n\r\n'))
  return Buffer.concat(parts)
}

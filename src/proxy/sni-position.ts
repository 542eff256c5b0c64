// Where the server_name host name sits inside a run of bytes: the default split point of both
// split strategies is inside the name, so no single segment or record carries it whole.

export interface NameSpan {
  start: number
  length: number
}

/** First occurrence of the ASCII host name in `bytes` (the SNI is the only copy in a ClientHello). */
export function findName(bytes: Uint8Array, name: string | undefined): NameSpan | undefined {
  if (!name) return undefined
  const at = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(Buffer.from(name, 'latin1'))
  return at < 0 ? undefined : { start: at, length: name.length }
}

/**
 * Default cut points: one byte into the name and at its middle (so neither piece holds the name,
 * nor its longest label, whole); without a name, the middle of the bytes.
 */
export function defaultCuts(bytes: Uint8Array, name: string | undefined): number[] {
  const span = findName(bytes, name)
  if (!span) return bytes.length > 1 ? [Math.floor(bytes.length / 2)] : []
  const cuts = [span.start + 1, span.start + Math.max(2, Math.floor(span.length / 2))]
  return [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length)
}

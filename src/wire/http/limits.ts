// Size limits for an HTTP/1.1 message head. RFC 9112 §2.3 leaves them to the recipient; these
// defaults are in the range servers use (nginx 8 KiB lines, Node 16 KiB heads, 100 fields).

export interface HeadLimits {
  /** The whole head, request/status line to the empty line's CRLF inclusive. */
  maxHeadBytes: number
  /** Field lines (the start line not counted). */
  maxHeaders: number
  /** One line, CRLF excluded. */
  maxLineBytes: number
}

export const DEFAULT_HEAD_LIMITS: HeadLimits = { maxHeadBytes: 16 * 1024, maxHeaders: 100, maxLineBytes: 8 * 1024 }

export function headLimits(partial?: Partial<HeadLimits>): HeadLimits {
  return { ...DEFAULT_HEAD_LIMITS, ...partial }
}

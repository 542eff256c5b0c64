// What the WebTunnel server says to anything that is not a WebTunnel upgrade: the page nginx
// itself serves (nginx 1.22 ngx_http_special_response.c error pages with server_tokens off, read
// as facts), so a prober sees an ordinary web server and no tell-tale error text.

import { encodeResponseHead } from '../wire/http/index.js'
import { concatBytes } from '../wire/bytes.js'

const PAGES = {
  400: 'Bad Request',
  404: 'Not Found',
} as const

export type OrdinaryStatus = keyof typeof PAGES

/** RFC 9110 §5.6.7 IMF-fixdate from a millisecond clock reading (the World's now()). */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString()
}

export function ordinaryResponse(status: OrdinaryStatus, nowMs: number): Uint8Array {
  const title = `${status} ${PAGES[status]}`
  const body = new TextEncoder().encode(
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
  )
  const head = encodeResponseHead({
    version: 'HTTP/1.1',
    status,
    reason: PAGES[status],
    headers: [
      ['Server', 'nginx'],
      ['Date', httpDate(nowMs)],
      ['Content-Type', 'text/html'],
      ['Content-Length', String(body.length)],
      ['Connection', 'close'],
    ],
  })
  return concatBytes(head, body)
}

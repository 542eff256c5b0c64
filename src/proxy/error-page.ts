// What a browser pointed at the proxy port as if it were a web server gets: a page that says what
// this port is, instead of a hang or a reset.

import { encodeResponseHead } from '../wire/http/index.js'

export function errorPage(status: 400 | 405 | 501 | 502, reason: string, text: string): Uint8Array {
  const body = Buffer.from(
    `<!doctype html><title>${status} ${reason}</title><h1>${status} ${reason}</h1>\n<p>${escapeHtml(text)}</p>\n` +
      '<p>This port is <b>sultry proxy</b>, an HTTP CONNECT and SOCKS5 proxy. Configure it as your browser\'s ' +
      'proxy (e.g. <code>curl -x http://HOST:PORT https://example.org/</code> or ' +
      '<code>curl --socks5-hostname HOST:PORT https://example.org/</code>); it does not serve pages itself.</p>\n',
  )
  const head = encodeResponseHead({
    version: 'HTTP/1.1',
    status,
    reason,
    headers: [
      ['Content-Type', 'text/html; charset=utf-8'],
      ['Content-Length', String(body.length)],
      ['Connection', 'close'],
    ],
  })
  return Buffer.concat([head, body])
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
}

import { describe, expect, it } from 'vitest'
import { WireError } from '../wire/bytes.js'
import { checkUpgradeRequest, checkUpgradeResponse, encodeUpgradeRequest, UPGRADE_RESPONSE } from './upgrade.js'
import { ordinaryResponse } from './ordinary-response.js'

const text = (b: Uint8Array) => new TextDecoder('latin1').decode(b)
const bytes = (s: string) => new TextEncoder().encode(s)

describe('WebTunnel upgrade', () => {
  // Expected bytes written out from Go's net/http Request.Write rules for the official client's
  // request (httpupgrade.go: NewRequest("GET", "/"+path), Connection/Upgrade set, Host = url host).
  it('sends the official client request', () => {
    expect(text(encodeUpgradeRequest({ host: 'example.com', path: '/secret' }))).toBe(
      'GET /secret HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Go-http-client/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
    )
  })

  it('answers with the official 101 (Go Response.Write: sorted fields, no Content-Length for 1xx)', () => {
    expect(text(UPGRADE_RESPONSE)).toBe('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n')
  })

  it('accepts our own request, a browser-style one and what nginx forwards', () => {
    expect(checkUpgradeRequest(encodeUpgradeRequest({ host: 'h', path: '/s' }), { path: '/s' }).kind).toBe('upgrade')
    const browser = bytes('GET /s?x=1 HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
    expect(checkUpgradeRequest(browser, { path: '/s' }).kind).toBe('upgrade')
    const viaNginx = bytes('GET /s HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\nHost: h\r\nX-Forwarded-For: 203.0.113.9, 10.0.0.1\r\n\r\n\x16\x03\x01')
    const v = checkUpgradeRequest(viaNginx, { path: '/s' })
    expect(v).toMatchObject({ kind: 'upgrade', forwardedFor: '203.0.113.9', used: viaNginx.length - 3 })
  })

  it.each([
    ['another path', 'GET /other HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'],
    ['no Upgrade', 'GET /s HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n'],
    ['no Connection: upgrade', 'GET /s HTTP/1.1\r\nHost: h\r\nConnection: close\r\nUpgrade: websocket\r\n\r\n'],
    ['h2c, not websocket', 'GET /s HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n'],
    ['POST', 'POST /s HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 0\r\n\r\n'],
    ['HTTP/1.0', 'GET /s HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'],
  ])('treats %s as an ordinary request', (_, req) => {
    expect(checkUpgradeRequest(bytes(req), { path: '/s' }).kind).toBe('ordinary')
  })

  it('says truncated until the head is complete, and WireError for garbage', () => {
    const req = encodeUpgradeRequest({ host: 'h', path: '/s' })
    expect(() => checkUpgradeRequest(req.subarray(0, req.length - 1))).toThrow(expect.objectContaining({ code: 'truncated' }))
    expect(() => checkUpgradeRequest(bytes('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n'))).toThrow(WireError)
  })

  it('client accepts exactly the 101 it should', () => {
    expect(checkUpgradeResponse(UPGRADE_RESPONSE).used).toBe(UPGRADE_RESPONSE.length)
    // nginx's rewrite of the 101 (Server/Date first, then the upstream's fields)
    const nginx = bytes('HTTP/1.1 101 Switching Protocols\r\nServer: nginx\r\nDate: Sun, 22 Nov 2026 05:00:00 GMT\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nAB')
    expect(checkUpgradeResponse(nginx).used).toBe(nginx.length - 2)
    for (const bad of [
      'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 101 Switching protocols!\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\nConnection: keep-alive\r\nUpgrade: websocket\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n',
    ]) expect(() => checkUpgradeResponse(bytes(bad))).toThrow(WireError)
  })

  it('the ordinary 404 looks like nginx’s page', () => {
    const r = text(ordinaryResponse(404, Date.UTC(2026, 10, 22, 5, 0, 0)))
    expect(r).toBe(
      'HTTP/1.1 404 Not Found\r\nServer: nginx\r\nDate: Sun, 22 Nov 2026 05:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 146\r\nConnection: close\r\n\r\n' +
        '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
    )
  })
})

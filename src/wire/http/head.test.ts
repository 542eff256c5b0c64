import { describe, expect, it } from 'vitest'
import { concatBytes, WireError } from '../bytes.js'
import {
  connectAuthority,
  encodeRequestHead,
  encodeResponseHead,
  isUpgrade,
  parseRequestHead,
  parseResponseHead,
  type HeadLimits,
} from './index.js'

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0))

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    if (e instanceof WireError) return e.code
    throw e
  }
  return 'ok'
}
const req = (s: string, limits?: Partial<HeadLimits>) => code(() => parseRequestHead(bytes(s), limits))
const res = (s: string) => code(() => parseResponseHead(bytes(s)))

// RFC 6455 §1.2, the opening handshake sent by the client.
const WS_REQUEST =
  'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n' +
  'Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n'
// RFC 6455 §1.2, the server's answer.
const WS_RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n'
// Captured from curl 7.88.1 (`curl -x http://127.0.0.1:PORT https://example.test/` against a
// node:net listener, 2026-11-22); connect.test.ts re-captures it live.
const CURL_CONNECT =
  'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\nUser-Agent: curl/7.88.1\r\nProxy-Connection: Keep-Alive\r\n\r\n'

describe('parseRequestHead', () => {
  it('reads the RFC 6455 opening handshake, keeping order and case', () => {
    const { head, used } = parseRequestHead(concatBytes(bytes(WS_REQUEST), bytes('\x81\x05hello')))
    expect(used).toBe(WS_REQUEST.length)
    expect([head.method, head.target, head.targetForm, head.version]).toEqual(['GET', '/chat', 'origin', 'HTTP/1.1'])
    expect(head.headers[0]).toEqual(['Host', 'server.example.com'])
    expect(head.headers.length).toBe(7)
    expect(head.get('sec-websocket-key')).toBe('dGhlIHNhbXBsZSBub25jZQ==')
    expect(head.get('SEC-WEBSOCKET-PROTOCOL')).toBe('chat, superchat')
    expect(isUpgrade(head, 'websocket')).toBe(true)
    expect(isUpgrade(head, 'h2c')).toBe(false)
  })

  it("reads curl's CONNECT and its authority", () => {
    const { head, used } = parseRequestHead(bytes(CURL_CONNECT + '\x16\x03\x01'))
    expect(used).toBe(CURL_CONNECT.length)
    expect(head.targetForm).toBe('authority')
    expect(head.get('proxy-connection')).toBe('Keep-Alive')
    expect(connectAuthority(head)).toEqual({ host: 'example.test', port: 443 })
  })

  it('knows the four request-target forms (RFC 9112 §3.2)', () => {
    const form = (line: string) => parseRequestHead(bytes(`${line}\r\nHost: h\r\n\r\n`)).head.targetForm
    expect(form('GET /where?q=now HTTP/1.1')).toBe('origin')
    expect(form('GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1')).toBe('absolute')
    expect(form('CONNECT www.example.com:80 HTTP/1.1')).toBe('authority')
    expect(form('OPTIONS * HTTP/1.1')).toBe('asterisk')
    expect(connectAuthority(parseRequestHead(bytes('CONNECT [2001:DB8::1]:8443 HTTP/1.1\r\nHost: x\r\n\r\n')).head)).toEqual({
      host: '2001:db8::1',
      port: 8443,
    })
  })

  it('rejects targets in the wrong form for the method', () => {
    expect(req('GET * HTTP/1.1\r\nHost: h\r\n\r\n')).toBe('bad-value')
    expect(req('CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n')).toBe('bad-value')
    expect(req('CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n')).toBe('bad-value')
    expect(req('CONNECT example.com:99999 HTTP/1.1\r\nHost: h\r\n\r\n')).toBe('bad-value')
    expect(req('CONNECT [::1:443 HTTP/1.1\r\nHost: h\r\n\r\n')).toBe('bad-value')
    expect(req('GET example.com HTTP/1.1\r\nHost: h\r\n\r\n')).toBe('bad-value')
  })

  it('ignores empty lines before the request-line (RFC 9112 §2.2)', () => {
    const { head, used } = parseRequestHead(bytes('\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n'))
    expect([head.target, used]).toEqual(['/', 31])
  })

  it('is truncated until CRLFCRLF', () => {
    for (let i = 0; i < CURL_CONNECT.length; i++) expect(req(CURL_CONNECT.slice(0, i))).toBe('truncated')
  })

  it('rejects malformed request lines', () => {
    for (const line of ['GET /  HTTP/1.1', 'GET / HTTP/1.1 ', 'GET /', 'G(T / HTTP/1.1', 'GET / HTTP/11', 'GET / http/1.1', 'GET /\x01 HTTP/1.1']) {
      expect(req(`${line}\r\nHost: h\r\n\r\n`), line).toBe('bad-value')
    }
    expect(req('GET / HTTP/2.0\r\nHost: h\r\n\r\n')).toBe('unsupported')
  })

  it('rejects obs-fold, space before the colon, bad names and CR/LF/NUL in values', () => {
    expect(req('GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  folded\r\n\r\n')).toBe('bad-value')
    expect(req('GET / HTTP/1.1\r\nHost : h\r\n\r\n')).toBe('bad-value')
    expect(req('GET / HTTP/1.1\r\nHost: h\r\nX(A): 1\r\n\r\n')).toBe('bad-value')
    expect(req('GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n')).toBe('bad-value')
    expect(req('GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n')).toBe('bad-value')
    expect(req('GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n')).toBe('bad-value')
    expect(req('GET / HTTP/1.1\r\nHost: h\r\nX-A: a\nb\r\n\r\n')).toBe('bad-value')
    expect(req('GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n')).toBe('bad-value')
  })

  it('keeps obs-text octets and trims OWS', () => {
    const { head } = parseRequestHead(bytes('GET / HTTP/1.1\r\nHost: h\r\nX-A: \t caf\xe9 \t\r\n\r\n'))
    expect(head.get('x-a')).toBe('caf\xe9')
  })

  it('wants exactly one Host in HTTP/1.1 (RFC 9112 §3.2)', () => {
    expect(req('GET / HTTP/1.1\r\n\r\n')).toBe('bad-value')
    expect(req('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')).toBe('bad-value')
    expect(req('GET / HTTP/1.0\r\n\r\n')).toBe('ok')
  })

  it('rejects conflicting Content-Length and CL with Transfer-Encoding', () => {
    const h = 'POST / HTTP/1.1\r\nHost: h\r\n'
    expect(req(`${h}Content-Length: 5\r\nContent-Length: 5\r\n\r\n`)).toBe('ok')
    expect(req(`${h}Content-Length: 5, 5\r\n\r\n`)).toBe('ok')
    expect(req(`${h}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`)).toBe('bad-value')
    expect(req(`${h}Content-Length: 5, 6\r\n\r\n`)).toBe('bad-value')
    expect(req(`${h}Content-Length: -1\r\n\r\n`)).toBe('bad-value')
    expect(req(`${h}Content-Length: 0x10\r\n\r\n`)).toBe('bad-value')
    expect(req(`${h}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`)).toBe('bad-value')
  })

  it('rejects a bare LF line ending', () => {
    expect(req('GET / HTTP/1.1\nHost: h\r\n\r\n')).toBe('bad-value')
  })

  it('enforces the limits before CRLFCRLF arrives', () => {
    const limits = { maxHeadBytes: 200, maxHeaders: 3, maxLineBytes: 64 }
    expect(req(`GET /${'a'.repeat(70)}`, limits)).toBe('too-large')
    expect(req(`GET /${'a'.repeat(50)} HTTP/1.1\r\n`, limits)).toBe('truncated') // a 64-byte line is fine
    expect(req(`GET /${'a'.repeat(51)} HTTP/1.1\r\n`, limits)).toBe('too-large')
    expect(req('GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n', limits)).toBe('too-large')
    expect(req('GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n', limits)).toBe('truncated')
    const many = `GET / HTTP/1.1\r\nHost: h\r\nA: ${'x'.repeat(60)}\r\nB: ${'x'.repeat(60)}\r\nC: ${'x'.repeat(50)}`
    expect(req(many, limits)).toBe('too-large')
    expect(req(`GET / HTTP/1.1\r\nHost: h\r\n${'X: y\r\n'.repeat(99)}\r\n`)).toBe('ok')
    expect(req(`GET / HTTP/1.1\r\nHost: h\r\n${'X: y\r\n'.repeat(100)}`)).toBe('too-large')
    expect(req('\r\n'.repeat(8193))).toBe('too-large')
  })

  it('encodes what it parses', () => {
    const { head } = parseRequestHead(bytes(WS_REQUEST))
    expect(encodeRequestHead(head)).toEqual(bytes(WS_REQUEST))
    const enc = (headers: [string, string][]) => code(() => encodeRequestHead({ method: 'GET', target: '/', version: 'HTTP/1.1', headers }))
    expect(enc([['Host', 'h']])).toBe('ok')
    expect(enc([['Host', 'h'], ['X', 'a\r\nInjected: 1']])).toBe('bad-value')
    expect(enc([['Host', 'h'], ['X Y', '1']])).toBe('bad-value')
    expect(enc([])).toBe('bad-value') // no Host: the parser would refuse it
    expect(code(() => encodeResponseHead({ version: 'HTTP/1.1', status: 200, reason: 'OK\r\nX: 1', headers: [] }))).toBe('bad-value')
  })
})

describe('parseResponseHead', () => {
  it('reads the RFC 6455 101 answer', () => {
    const { head, used } = parseResponseHead(bytes(WS_RESPONSE + 'frames'))
    expect([head.version, head.status, head.reason, used]).toEqual(['HTTP/1.1', 101, 'Switching Protocols', WS_RESPONSE.length])
    expect(head.get('sec-websocket-accept')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
    expect(isUpgrade(head, 'WebSocket')).toBe(true)
    expect(encodeResponseHead(head)).toEqual(bytes(WS_RESPONSE))
  })

  it('accepts an empty reason with or without its SP', () => {
    expect(parseResponseHead(bytes('HTTP/1.1 204 \r\n\r\n')).head.reason).toBe('')
    expect(parseResponseHead(bytes('HTTP/1.1 204\r\n\r\n')).head.status).toBe(204)
  })

  it('rejects bad status codes and versions', () => {
    for (const line of ['HTTP/1.1 2000 OK', 'HTTP/1.1 20 OK', 'HTTP/1.1 abc OK', 'HTTP/1.1 099 Low', 'HTTP/1.1 600 High', 'HTTP/1.1  200 OK', 'HTTP/1.1', 'ICY 200 OK']) {
      expect(res(`${line}\r\n\r\n`), line).toBe('bad-value')
    }
    expect(res('HTTP/1.1 200 O\x01K\r\n\r\n')).toBe('bad-value')
    expect(res('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n')).toBe('bad-value')
    expect(res('HTTP/1.1 200 OK\r\nA: 1\r\n b\r\n\r\n')).toBe('bad-value')
    expect(res('\r\nHTTP/1.1 200 OK\r\n\r\n')).toBe('bad-value')
  })
})

describe('isUpgrade', () => {
  const head = (fields: string) => parseRequestHead(bytes(`GET / HTTP/1.1\r\nHost: h\r\n${fields}\r\n`)).head
  it('reads token lists case-insensitively, across repeated fields', () => {
    expect(isUpgrade(head('Connection: keep-alive, UPGRADE\r\nUpgrade: foo/2, WebSocket\r\n'), 'websocket')).toBe(true)
    expect(isUpgrade(head('Connection: keep-alive\r\nConnection: upgrade\r\nUpgrade: websocket\r\n'), 'websocket')).toBe(true)
    expect(isUpgrade(head('Upgrade: websocket\r\n'), 'websocket')).toBe(false)
    expect(isUpgrade(head('Connection: upgrade\r\nUpgrade: websocketx\r\n'), 'websocket')).toBe(false)
    expect(isUpgrade(head('Connection: upgraded\r\nUpgrade: websocket\r\n'), 'websocket')).toBe(false)
    expect(isUpgrade(head('Connection: upgrade\r\nUpgrade: h2c/1\r\n'), 'h2c')).toBe(true)
  })
})

// Real peers: curl as an HTTP proxy client (CONNECT in authority-form, plain GET in
// absolute-form) against a node:net listener on 127.0.0.1, and node:http's own response head.
// No traffic leaves the machine: the proxy never dials anything.

import { execFile } from 'node:child_process'
import { createServer as createHttpServer } from 'node:http'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { concatBytes, isTruncated } from '../bytes.js'
import { connectAuthority, parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from './index.js'

interface Seen {
  head: RequestHead
  headBytes: string
  after: Uint8Array
}

/** A proxy that parses one request head, answers `answer`, then keeps what the client sends next. */
async function proxyOnce(curlArgs: (port: number) => string[], answer: string): Promise<{ seen: Seen; curl: { code: number; stderr: string } }> {
  let resolveSeen!: (s: Seen) => void
  const seenP = new Promise<Seen>((r) => (resolveSeen = r))
  const server = createServer((sock: Socket) => {
    let buf: Uint8Array = new Uint8Array(0)
    let seen: Omit<Seen, 'after'> | undefined
    let used = 0
    sock.on('error', () => {})
    sock.on('data', (chunk) => {
      buf = concatBytes(buf, chunk)
      if (!seen) {
        try {
          const r = parseRequestHead(buf)
          used = r.used
          seen = { head: r.head, headBytes: Buffer.from(buf.subarray(0, used)).toString('latin1') }
          sock.write(answer)
        } catch (e) {
          if (!isTruncated(e)) throw e
          return
        }
      }
      // After a 200 to CONNECT, curl starts TLS: wait for its first record header.
      if (buf.length - used >= 5 || !answer.startsWith('HTTP/1.1 200')) {
        resolveSeen({ ...seen, after: buf.slice(used) })
        sock.destroy()
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const curl = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile('curl', ['-sS', '--max-time', '10', ...curlArgs(port)], (err, _out, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr }),
    ),
  )
  const seen = await seenP
  server.close()
  return { seen, curl }
}

describe('HTTP heads from real peers', () => {
  it("parses curl's CONNECT, and leaves its TLS ClientHello untouched after `used`", async () => {
    const { seen, curl } = await proxyOnce((p) => ['-x', `http://127.0.0.1:${p}`, 'https://example.test/'], 'HTTP/1.1 200 Connection established\r\n\r\n')
    expect(curl.code).not.toBe(0) // we hang up in the middle of its TLS handshake
    expect(seen.head.method).toBe('CONNECT')
    expect(seen.head.targetForm).toBe('authority')
    expect(connectAuthority(seen.head)).toEqual({ host: 'example.test', port: 443 })
    expect(seen.head.get('host')).toBe('example.test:443')
    expect(seen.head.get('user-agent')).toMatch(/^curl\//)
    expect(seen.head.headers.map(([n]) => n)).toEqual(['Host', 'User-Agent', 'Proxy-Connection'])
    expect(seen.headBytes.endsWith('\r\n\r\n')).toBe(true)
    // A TLS handshake record (RFC 8446 §5.1: type 22, legacy version 0x0301) starts right at `used`.
    expect([...seen.after.subarray(0, 3)]).toEqual([0x16, 0x03, 0x01])
  })

  it("parses curl's CONNECT to a bracketed IPv6 literal", async () => {
    const { seen } = await proxyOnce((p) => ['-x', `http://127.0.0.1:${p}`, 'https://[2001:db8::1]:8443/'], 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n')
    expect(seen.head.target).toBe('[2001:db8::1]:8443')
    expect(connectAuthority(seen.head)).toEqual({ host: '2001:db8::1', port: 8443 })
  })

  it("parses curl's absolute-form proxy GET", async () => {
    const { seen, curl } = await proxyOnce(
      (p) => ['-x', `http://127.0.0.1:${p}`, 'http://example.test/a/b?c=d'],
      'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n',
    )
    expect(curl.code).toBe(0)
    expect([seen.head.method, seen.head.target, seen.head.targetForm]).toEqual(['GET', 'http://example.test/a/b?c=d', 'absolute'])
    expect(seen.head.get('host')).toBe('example.test')
    expect(seen.after.length).toBe(0)
  })

  it("parses node:http's response head and leaves the body after `used`", async () => {
    const server = createHttpServer((_req, res) => {
      res.setHeader('X-Sultry', 'yes')
      res.end('body!')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    const raw = await new Promise<Uint8Array>((resolve) => {
      let buf: Uint8Array = new Uint8Array(0)
      const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
      s.on('data', (d) => (buf = concatBytes(buf, d)))
      s.on('end', () => resolve(buf))
    })
    server.close()
    const { head, used }: { head: ResponseHead; used: number } = parseResponseHead(raw)
    expect([head.version, head.status, head.reason]).toEqual(['HTTP/1.1', 200, 'OK'])
    expect(head.get('x-sultry')).toBe('yes')
    expect(head.get('content-length')).toBe('5')
    expect(Buffer.from(raw.subarray(used)).toString()).toBe('body!')
  })
})

import * as tls from 'node:tls'
import { Duplex } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { concatBytes, equalBytes } from '../wire/bytes.js'
import { ClientHelloGate } from './client-hello-gate.js'
import { framed, helloMessage } from './testkit/hellos.js'

/** The first flight node:tls (OpenSSL) really sends for `servername`, captured from a dead-end Duplex. */
function opensslHello(servername: string, alpn?: string[]): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const sink = new Duplex({
      read() {},
      write(chunk: Buffer, _e, cb) {
        resolve(new Uint8Array(chunk))
        cb()
      },
    })
    const s = tls.connect({ socket: sink, servername, ALPNProtocols: alpn })
    s.on('error', () => {})
    setTimeout(() => s.destroy(), 50)
  })
}

describe('ClientHelloGate', () => {
  it('reads the SNI and ALPN of a real OpenSSL ClientHello fed one byte at a time', async () => {
    const bytes = await opensslHello('blocked.lab.test', ['h2', 'http/1.1'])
    const gate = new ClientHelloGate()
    let d
    for (let i = 0; i < bytes.length; i++) {
      d = gate.push(bytes.subarray(i, i + 1))
      if (i < bytes.length - 1) expect(d).toBeUndefined()
    }
    expect(d?.kind).toBe('client-hello')
    if (d?.kind !== 'client-hello') return
    expect(d.sni).toBe('blocked.lab.test')
    expect(d.alpn).toEqual(['h2', 'http/1.1'])
    expect(d.resumption).toBe(false)
    expect(equalBytes(d.raw, bytes)).toBe(true)
    expect(d.rest.length).toBe(0)
  })

  it('reassembles a post-quantum-sized hello spread over four records and reports the PSK', () => {
    const msg = helloMessage({ sni: 'pq.example', keyShareBytes: 1216, psk: true })
    const bytes = framed(msg, [100, 700, 1300])
    const extra = new Uint8Array([23, 3, 3, 0, 1, 0])
    const d = new ClientHelloGate().push(concatBytes(bytes, extra))
    expect(d?.kind).toBe('client-hello')
    if (d?.kind !== 'client-hello') return
    expect(d.records).toBe(4)
    expect(d.sni).toBe('pq.example')
    expect(d.resumption).toBe(true)
    expect(equalBytes(d.raw, bytes)).toBe(true)
    expect(equalBytes(d.rest, extra)).toBe(true)
  })

  it('calls an HTTP request not-tls at once, keeping its bytes', () => {
    const req = new TextEncoder().encode('GET / HTTP/1.1\r\n')
    const d = new ClientHelloGate().push(req)
    expect(d).toMatchObject({ kind: 'not-tls' })
    expect(d?.kind === 'not-tls' && equalBytes(d.bytes, req)).toBe(true)
  })

  it('calls a handshake record holding a ServerHello not-tls, and EOF mid-hello not-tls', () => {
    const sh = framed(new Uint8Array([2, 0, 0, 1, 0]))
    expect(new ClientHelloGate().push(sh)?.kind).toBe('not-tls')
    const g = new ClientHelloGate()
    const part = framed(helloMessage({ sni: 'a.example' })).subarray(0, 40)
    expect(g.push(part)).toBeUndefined()
    const d = g.end()
    expect(d.kind).toBe('not-tls')
    expect(d.kind === 'not-tls' && equalBytes(d.bytes, part)).toBe(true)
  })

  it('refuses a hello past the bound with too-large, without waiting for it', () => {
    const msg = helloMessage({ sni: 'big.example', keyShareBytes: 9000 })
    const g = new ClientHelloGate({ maxHelloBytes: 4096 })
    const d = g.push(framed(msg).subarray(0, 200))
    expect(d?.kind).toBe('error')
    expect(d?.kind === 'error' && d.error.code).toBe('too-large')
    // Many small records whose total passes the bound are refused too.
    const g2 = new ClientHelloGate({ maxHelloBytes: 4096 })
    const many = framed(msg, Array.from({ length: 100 }, (_, i) => (i + 1) * 80))
    const d2 = g2.push(many)
    expect(d2?.kind).toBe('error')
  })
})

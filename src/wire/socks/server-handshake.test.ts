// Handshake byte strings are written by hand from the message tables of RFC 1928 (§3 greeting,
// §4 request, §6 reply), RFC 1929 §2, the SOCKS4/SOCKS4a documents and Tor's socks-extensions.txt
// (RESOLVE F0, RESOLVE_PTR F1). 192.0.2.0/24 is the RFC 5737 documentation range.
import { describe, expect, it } from 'vitest'
import { concatBytes, fromHex, toHex } from '../bytes.js'
import { SocksServerHandshake, type SocksServerEvent } from './server-handshake.js'

const ascii = (s: string) => toHex(new TextEncoder().encode(s))

function feed(engine: SocksServerHandshake, ...chunks: string[]): SocksServerEvent[] {
  return chunks.flatMap((c) => engine.receive(fromHex(c)))
}

describe('SocksServerHandshake, SOCKS5', () => {
  it('answers the greeting, then reports a CONNECT (RFC 1928 flow)', () => {
    const hs = new SocksServerHandshake({ methods: ['no-auth'] })
    const first = feed(hs, '05 01 00')
    expect(first).toEqual([{ kind: 'send', bytes: fromHex('05 00') }])
    const second = feed(hs, `05 01 00 03 0b ${ascii('example.com')} 01 bb`)
    expect(second).toEqual([
      { kind: 'request', version: 5, command: 'connect', host: 'example.com', addressType: 'domain', port: 443, leftover: new Uint8Array(0) },
    ])
    expect(toHex(hs.reply('succeeded', { host: '192.0.2.1', port: 1080 }))).toBe('05000001c00002010438')
  })

  it('runs RFC 1929 sub-negotiation and passes the credentials on', () => {
    const seen: string[] = []
    const hs = new SocksServerHandshake({
      methods: ['no-auth', 'username-password'],
      credentials: (u, p) => (seen.push(`${u}:${p}`), u === 'alice' && p === 'secret'),
    })
    // All three messages pipelined in one segment, plus the client's first data ("GET").
    const events = feed(
      hs,
      `05 02 00 02  01 05 ${ascii('alice')} 06 ${ascii('secret')}  05 01 00 01 c0 00 02 01 00 50 ${ascii('GET')}`,
    )
    expect(events.map((e) => e.kind)).toEqual(['send', 'send', 'request'])
    expect(events[0]).toEqual({ kind: 'send', bytes: fromHex('05 02') })
    expect(events[1]).toEqual({ kind: 'send', bytes: fromHex('01 00') })
    const req = events[2]
    expect(req.kind === 'request' && [req.host, req.port, req.username, req.password, toHex(req.leftover)]).toEqual([
      '192.0.2.1', 80, 'alice', 'secret', ascii('GET'),
    ])
    expect(seen).toEqual(['alice:secret'])
  })

  it('fails bad credentials with STATUS 01 (RFC 1929 §2: the server closes)', () => {
    const hs = new SocksServerHandshake({ methods: ['username-password'], credentials: () => false })
    const events = feed(hs, '05 01 02', `01 01 ${ascii('a')} 01 ${ascii('b')}`)
    expect(events[1].kind === 'error' && toHex(events[1].reply)).toBe('0101')
    expect(hs.finished).toBe(true)
  })

  it("accepts any credentials as Tor's isolation key", () => {
    const hs = new SocksServerHandshake({ methods: ['username-password'], credentials: 'accept-any' })
    const events = feed(hs, '05 01 02', `01 02 ${ascii('k1')} 00`, `05 f0 00 03 0b ${ascii('example.com')} 00 00`)
    const req = events[2]
    expect(req.kind === 'request' && [req.command, req.username, req.password]).toEqual(['resolve', 'k1', ''])
  })

  it('answers X\'FF\' when no offered method is allowed', () => {
    const hs = new SocksServerHandshake({ methods: ['username-password'], credentials: 'accept-any' })
    const [ev] = feed(hs, '05 01 00')
    expect(ev.kind === 'error' && toHex(ev.reply)).toBe('05ff')
  })

  it('answers command not supported (07) and address type not supported (08)', () => {
    const a = new SocksServerHandshake({ methods: ['no-auth'] })
    const evA = feed(a, '05 01 00 05 09 00 01 7f 00 00 01 00 50')
    expect(evA[1].kind === 'error' && toHex(evA[1].reply)).toBe('05070001000000000000')
    const b = new SocksServerHandshake({ methods: ['no-auth'] })
    const evB = feed(b, '05 01 00 05 01 00 07')
    expect(evB[1].kind === 'error' && toHex(evB[1].reply)).toBe('05080001000000000000')
  })

  it('answers general failure (01) to a malformed request', () => {
    const hs = new SocksServerHandshake({ methods: ['no-auth'] })
    const ev = feed(hs, '05 01 00 05 01 00 03 00 00 50')
    expect(ev[1].kind === 'error' && [ev[1].error.code, toHex(ev[1].reply)]).toEqual(['bad-value', '05010001000000000000'])
  })

  it('reports RESOLVE_PTR with an IPv6 address', () => {
    const hs = new SocksServerHandshake({ methods: ['no-auth'] })
    const ev = feed(hs, '05 01 00 05 f1 00 04 00000000000000000000000000000001 00 00')
    expect(ev[1]).toMatchObject({ kind: 'request', command: 'resolve-ptr', host: '::1', addressType: 'ipv6' })
  })

  it('stops at an unknown version without a reply', () => {
    const hs = new SocksServerHandshake({ methods: ['no-auth'] })
    const [ev] = hs.receive(new TextEncoder().encode('GET / HTTP/1.1\r\n'))
    expect(ev.kind === 'error' && [ev.error.code, ev.reply.length]).toEqual(['unsupported', 0])
    expect(hs.receive(fromHex('00'))).toEqual([])
  })

  it('refuses bytes once the request is out (the stream belongs to the driver)', () => {
    const hs = new SocksServerHandshake({ methods: ['no-auth'] })
    feed(hs, '05 01 00 05 01 00 01 7f 00 00 01 00 50')
    expect(() => hs.receive(fromHex('00'))).toThrow(/belong to the stream/)
  })
})

describe('SocksServerHandshake, SOCKS4/4a', () => {
  it('reports a SOCKS4a CONNECT with the USERID and replies 90', () => {
    const hs = new SocksServerHandshake({ methods: ['no-auth'] })
    const ev = feed(hs, `04 01 00 50 00 00 00 01 ${ascii('bob')} 00 ${ascii('some.name')} 00 ${ascii('xy')}`)
    expect(ev).toEqual([
      { kind: 'request', version: 4, command: 'connect', host: 'some.name', addressType: 'domain', port: 80, username: 'bob', leftover: fromHex(ascii('xy')) },
    ])
    expect(toHex(hs.reply('succeeded'))).toBe('005a000000000000')
  })

  it('maps any failure to 91', () => {
    const hs = new SocksServerHandshake({ methods: ['no-auth'] })
    feed(hs, '04 01 00 50 c0 00 02 01 00')
    expect(toHex(hs.reply('connectionRefused'))).toBe('005b000000000000')
  })

  it('refuses SOCKS4 where a password check would be skipped', () => {
    const hs = new SocksServerHandshake({ methods: ['username-password'], credentials: () => true })
    const [ev] = feed(hs, '04 01 00 50 c0 00 02 01 00')
    expect(ev.kind === 'error' && toHex(ev.reply)).toBe('005b000000000000')
  })

  it('buffers no more than one SOCKS4a request while a peer trickles', () => {
    const hs = new SocksServerHandshake({ methods: ['no-auth'] })
    let last: SocksServerEvent[] = []
    let maxBuffered = 0
    const stream = concatBytes(fromHex('04 01 00 50 00 00 00 01'), new Uint8Array(600).fill(0x61))
    for (const b of stream) {
      if (hs.finished) break
      last = hs.receive(Uint8Array.of(b))
      maxBuffered = Math.max(maxBuffered, hs.buffered)
    }
    expect(last[0].kind === 'error' && last[0].error.code).toBe('too-large')
    expect(maxBuffered).toBeLessThanOrEqual(8 + 256)
  })
})

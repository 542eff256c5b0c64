import { describe, expect, it } from 'vitest'
import { fromHex, toHex, WireError } from '../bytes.js'
import {
  ATYP,
  Command,
  decodeClientGreeting,
  decodeMethodSelection,
  decodeSocks4Reply,
  decodeSocks4Request,
  decodeSocks5Reply,
  decodeSocks5Request,
  decodeUserPassRequest,
  decodeUserPassResponse,
  encodeClientGreeting,
  encodeMethodSelection,
  encodeSocks4Reply,
  encodeSocks4Request,
  encodeSocks5Reply,
  encodeSocks5Request,
  encodeUserPassRequest,
  ipv6FromText,
  ipv6ToText,
  Method,
} from './index.js'

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    if (e instanceof WireError) return e.code
    throw e
  }
  return 'ok'
}

const ascii = (s: string) => toHex(new TextEncoder().encode(s))

describe('SOCKS5 method negotiation (RFC 1928 §3)', () => {
  // Built from the RFC 1928 §3 table: VER=05, NMETHODS=02, METHODS=00 (no auth) 02 (RFC 1929).
  it('decodes a greeting offering no-auth and username/password', () => {
    const { greeting, used } = decodeClientGreeting(fromHex('05 02 00 02 ff'))
    expect(greeting).toEqual({ ver: 5, methods: [Method.noAuthenticationRequired, Method.usernamePassword] })
    expect(used).toBe(4)
    expect(toHex(encodeClientGreeting(greeting))).toBe('05020002')
  })
  it('wants the methods NMETHODS announced', () => {
    const e = (() => { try { decodeClientGreeting(fromHex('05 03 00')) } catch (x) { return x as WireError } })()
    expect([e?.code, e?.needed]).toEqual(['truncated', 2])
  })
  it('rejects NMETHODS 0 and other versions', () => {
    expect(code(() => decodeClientGreeting(fromHex('05 00')))).toBe('bad-value')
    expect(code(() => decodeClientGreeting(fromHex('04 01 00')))).toBe('unsupported')
  })
  // RFC 1928 §3: "If the selected METHOD is X'FF', none of the methods listed by the client are acceptable".
  it('encodes and decodes METHOD selection, including X\'FF\'', () => {
    expect(toHex(encodeMethodSelection({ ver: 5, method: Method.noAcceptableMethods }))).toBe('05ff')
    expect(decodeMethodSelection(fromHex('05 02')).selection).toEqual({ ver: 5, method: 2 })
  })
})

describe('RFC 1929 username/password', () => {
  // RFC 1929 §2: VER=01 ULEN UNAME PLEN PASSWD; "user"/"pass" written out by hand.
  it('decodes VER ULEN UNAME PLEN PASSWD', () => {
    const bytes = fromHex(`01 04 ${ascii('user')} 04 ${ascii('pass')}`)
    const { request, used } = decodeUserPassRequest(bytes)
    expect(request).toEqual({ ver: 1, uname: 'user', passwd: 'pass' })
    expect(used).toBe(11)
    expect(encodeUserPassRequest(request)).toEqual(bytes)
  })
  it('keeps non-ASCII octets of an isolation key exactly', () => {
    const { request } = decodeUserPassRequest(fromHex('01 02 ff 00 00'))
    expect(request.uname).toBe('\xff\x00')
    expect(toHex(encodeUserPassRequest(request))).toBe('0102ff0000')
  })
  it('decodes STATUS (0 = success)', () => {
    expect(decodeUserPassResponse(fromHex('01 00')).response).toEqual({ ver: 1, status: 0 })
    expect(code(() => decodeUserPassResponse(fromHex('05 00')))).toBe('unsupported')
  })
})

describe('SOCKS5 request and reply (RFC 1928 §4–§6)', () => {
  // CONNECT to the domain name example.com port 80: 05 01 00 03 0b "example.com" 00 50.
  it('decodes CONNECT to a domain name', () => {
    const bytes = fromHex(`05 01 00 03 0b ${ascii('example.com')} 00 50`)
    const { request, used } = decodeSocks5Request(bytes)
    expect(request).toEqual({ ver: 5, cmd: Command.connect, rsv: 0, atyp: ATYP.domainName, dstAddr: 'example.com', dstPort: 80 })
    expect(used).toBe(bytes.length)
    expect(encodeSocks5Request(request)).toEqual(bytes)
  })
  // RFC 1928 §4/§5: ATYP 01 with 4 octets, ATYP 04 with 16 octets; RFC 5737/3849 documentation addresses.
  it('decodes IPv4 and IPv6 DST.ADDR', () => {
    expect(decodeSocks5Request(fromHex('05 01 00 01 c0 00 02 01 1f 90')).request.dstAddr).toBe('192.0.2.1')
    const v6 = decodeSocks5Request(fromHex('05 01 00 04 20010db8000000000000000000000001 01 bb')).request
    expect([v6.dstAddr, v6.dstPort]).toEqual(['2001:db8::1', 443])
  })
  // Tor socks-extensions §2: RESOLVE is CMD F0 with a domain name; the answer is a normal reply
  // carrying the address in BND.ADDR. RESOLVE_PTR is F1 with an IP; the answer carries ATYP 3.
  it('decodes Tor RESOLVE and RESOLVE_PTR and their replies', () => {
    const resolve = decodeSocks5Request(fromHex(`05 f0 00 03 0b ${ascii('example.com')} 00 00`)).request
    expect([resolve.cmd, resolve.dstAddr]).toEqual([Command.resolve, 'example.com'])
    const ptr = decodeSocks5Request(fromHex('05 f1 00 01 7f 00 00 01 00 00')).request
    expect([ptr.cmd, ptr.dstAddr]).toEqual([Command.resolvePtr, '127.0.0.1'])
    const answer = decodeSocks5Reply(fromHex('05 00 00 01 c0 00 02 07 00 00')).reply
    expect(answer.bndAddr).toBe('192.0.2.7')
    const name = { ver: 5, rep: 0, rsv: 0, atyp: ATYP.domainName, bndAddr: 'localhost', bndPort: 0 }
    expect(toHex(encodeSocks5Reply(name))).toBe(`0500000309${ascii('localhost')}0000`)
  })
  it('rejects an empty domain, control octets and an unknown ATYP', () => {
    expect(code(() => decodeSocks5Request(fromHex('05 01 00 03 00 00 50')))).toBe('bad-value')
    expect(code(() => decodeSocks5Request(fromHex('05 01 00 03 02 61 0a 00 50')))).toBe('bad-value')
    expect(code(() => decodeSocks5Request(fromHex('05 01 00 02 00 00')))).toBe('unsupported')
  })
  it('writes IPv6 text per RFC 5952 and reads every text form', () => {
    // RFC 5952 §4.2.3: the longest run of zero groups is shortened ...
    expect(ipv6ToText(fromHex('20010000000000010000000000000001'))).toBe('2001:0:0:1::1')
    // ... and of equal runs the first: the RFC's own example 2001:db8:0:0:1:0:0:1.
    expect(ipv6ToText(fromHex('20010db8000000000001000000000001'))).toBe('2001:db8::1:0:0:1')
    // RFC 5952 §4.2.2: a single zero group is not shortened.
    expect(ipv6ToText(fromHex('20010db8000000010001000100010001'))).toBe('2001:db8:0:1:1:1:1:1')
    // RFC 4291 §2.2 form 3 (trailing dotted quad) and §2.5.2 (the unspecified address).
    expect(toHex(ipv6FromText('::ffff:192.0.2.1'))).toBe('00000000000000000000ffffc0000201')
    expect(toHex(ipv6FromText('::'))).toBe('0'.repeat(32))
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', ':1', 'g::']) {
      expect(code(() => ipv6FromText(bad))).toBe('bad-value')
    }
  })
})

describe('SOCKS4 and SOCKS4a', () => {
  // SOCKS4 protocol document: VN=4 CD=1 DSTPORT DSTIP USERID NULL; user "fred" to 192.0.2.1:80.
  it('decodes a SOCKS4 CONNECT with a USERID', () => {
    const bytes = fromHex(`04 01 00 50 c0 00 02 01 ${ascii('fred')} 00`)
    const { request, used } = decodeSocks4Request(bytes)
    expect(request).toEqual({ vn: 4, cd: 1, dstPort: 80, dstIp: '192.0.2.1', userId: 'fred' })
    expect(used).toBe(13)
    expect(encodeSocks4Request(request)).toEqual(bytes)
  })
  // SOCKS4a document: DSTIP 0.0.0.x with x nonzero, then the domain name after the USERID's NULL.
  it('decodes the SOCKS4a 0.0.0.x domain form', () => {
    const bytes = fromHex(`04 01 01 bb 00 00 00 01 00 ${ascii('example.com')} 00`)
    const { request, used } = decodeSocks4Request(bytes)
    expect(request).toEqual({ vn: 4, cd: 1, dstPort: 443, dstIp: '0.0.0.1', userId: '', domain: 'example.com' })
    expect(used).toBe(bytes.length)
    expect(encodeSocks4Request(request)).toEqual(bytes)
  })
  it('waits for the NULs, and bounds the wait', () => {
    expect(code(() => decodeSocks4Request(fromHex(`04 01 00 50 00 00 00 01 00 ${ascii('example')}`)))).toBe('truncated')
    const long = new Uint8Array(8 + 256).fill(0x61)
    long.set(fromHex('04 01 00 50 c0 00 02 01'))
    expect(code(() => decodeSocks4Request(long))).toBe('too-large')
    expect(code(() => decodeSocks4Request(long.subarray(0, 8 + 255)))).toBe('truncated')
  })
  it('refuses a domain without the 0.0.0.x marker when encoding', () => {
    expect(code(() => encodeSocks4Request({ vn: 4, cd: 1, dstPort: 1, dstIp: '1.2.3.4', userId: '', domain: 'a' }))).toBe('bad-value')
  })
  // SOCKS4 document: reply VN=0, CD=90 "request granted".
  it('encodes and decodes the reply', () => {
    const bytes = fromHex('00 5a 00 50 c0 00 02 01')
    expect(decodeSocks4Reply(bytes).reply).toEqual({ vn: 0, cd: 90, dstPort: 80, dstIp: '192.0.2.1' })
    expect(encodeSocks4Reply({ vn: 0, cd: 90, dstPort: 80, dstIp: '192.0.2.1' })).toEqual(bytes)
    expect(code(() => decodeSocks4Reply(fromHex('04 5a 00 50 c0 00 02 01')))).toBe('bad-value')
  })
})

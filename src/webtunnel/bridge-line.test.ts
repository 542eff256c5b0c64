import { describe, expect, it } from 'vitest'
import { WireError } from '../wire/bytes.js'
import { bridgeArg, formatBridgeLine, parseBridgeLine } from './bridge-line.js'
import { placeholderAddress } from './placeholder-address.js'

describe('bridge lines', () => {
  // Shape from the official server's get-bridge-line.sh and Tor Browser's built-in list:
  // "webtunnel [2001:db8:…]:443 FINGERPRINT url=https://… ver=0.0.1".
  const line =
    'webtunnel [2001:db8:bce5:252f:cb34:2be1:d5a3:9c16]:443 0123456789ABCDEF0123456789ABCDEF01234567 url=https://example.com/secret ver=0.0.1'

  it('parses a WebTunnel bridge line', () => {
    const b = parseBridgeLine(line)
    expect(b).toEqual({
      transport: 'webtunnel',
      address: '2001:db8:bce5:252f:cb34:2be1:d5a3:9c16',
      port: 443,
      fingerprint: '0123456789ABCDEF0123456789ABCDEF01234567',
      args: [
        ['url', 'https://example.com/secret'],
        ['ver', '0.0.1'],
      ],
    })
    expect(formatBridgeLine(b)).toBe(line)
  })

  it('takes the torrc "Bridge" keyword, extra blanks, lower-case fingerprints, and values holding "="', () => {
    const b = parseBridgeLine(
      'Bridge  webtunnel [2001:0db8:0000::1]:443  0123456789abcdef0123456789abcdef01234567 url=https://h.example/p?a=b cert=AAAA+/== servername=a.example servername=b.example',
    )
    expect(b.address).toBe('2001:db8::1')
    expect(b.fingerprint).toBe('0123456789ABCDEF0123456789ABCDEF01234567')
    expect(bridgeArg(b.args, 'url')).toBe('https://h.example/p?a=b')
    expect(bridgeArg(b.args, 'cert')).toBe('AAAA+/==')
    expect(b.args.filter(([k]) => k === 'servername').map(([, v]) => v)).toEqual(['a.example', 'b.example'])
  })

  it('has no fingerprint when the first item after the address is k=v (tor accepts that)', () => {
    expect(parseBridgeLine('webtunnel 192.0.2.1:443 url=https://x/').fingerprint).toBeUndefined()
  })

  it.each([
    '',
    'webtunnel',
    'web-tunnel [2001:db8::1]:443',
    'webtunnel 2001:db8::1:443',
    'webtunnel [2001:db8::1]:0',
    'webtunnel [2001:db8::1]:65536',
    'webtunnel 300.1.1.1:443',
    'webtunnel [2001:db8::1]:443 0123 url=x',
    'webtunnel [2001:db8::1]:443 0123456789ABCDEF0123456789ABCDEF01234567 noequals',
    'webtunnel [2001:db8::1]:443 0123456789ABCDEF0123456789ABCDEF01234567 =novalue',
  ])('refuses %j with a WireError', (text) => {
    expect(() => parseBridgeLine(text)).toThrow(WireError)
  })

  it('refuses to print an argument a bridge line cannot carry', () => {
    expect(() => formatBridgeLine({ transport: 'webtunnel', address: '2001:db8::1', port: 443, args: [['url', 'a b']] })).toThrow(WireError)
  })
})

describe('placeholder address', () => {
  // SHA-256("WEBTUNNEL+https://example.com/secret") = a0cc4a76 bce5252f cb342be1 d5a39c16 97… (openssl
  // dgst -sha256); the official derivation keeps 2001:0db8 and takes hash bytes 4..15.
  it('is the official server’s synthetic address', () => {
    expect(placeholderAddress('https://example.com/secret')).toBe('2001:db8:bce5:252f:cb34:2be1:d5a3:9c16')
  })
})

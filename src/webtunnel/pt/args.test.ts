import { describe, expect, it } from 'vitest'
import { WireError } from '../../wire/bytes.js'
import { decodeServerTransportOptions, decodeSocksArgs, encodeSmethodArgs, encodeSocksArgs, socksArgsFromCredentials } from './args.js'

describe('PT argument strings', () => {
  // pt-spec.txt §3.5 example: bridge "shared-secret=rahasia;secrets-file=/tmp/blob" is sent as
  // UNAME "shared-secret=rahasia;secrets-file=/tmp/blob", PASSWD one NUL byte.
  it('reads the pt-spec SOCKS example', () => {
    expect(socksArgsFromCredentials('shared-secret=rahasia;secrets-file=/tmp/blob', '\0')).toEqual([
      ['shared-secret', 'rahasia'],
      ['secrets-file', '/tmp/blob'],
    ])
  })

  it('escapes ";" and "\\" as tor does, and splits only at unescaped ones', () => {
    const args: [string, string][] = [['url', 'https://h/p;q'], ['x', 'a\\b=c']]
    expect(encodeSocksArgs(args)).toBe('url=https://h/p\\;q;x=a\\\\b=c')
    expect(decodeSocksArgs('url=https://h/p\\;q;x=a\\\\b=c')).toEqual(args)
    expect(socksArgsFromCredentials('url=https://h/p', '\\;more=1')).toEqual([['url', 'https://h/p;more=1']])
  })

  it('refuses entries without "=", empty keys and a trailing backslash', () => {
    for (const t of ['url', '=v', 'a=b;c', 'a=b\\']) expect(() => decodeSocksArgs(t)).toThrow(WireError)
  })

  // pt-spec §3.3.3: "SMETHOD trebuchet 198.51.100.1:19999 ARGS:rocks=20,height=5.6m"; goptlib escapes , = \.
  it('writes SMETHOD ARGS with , = \\ escaped', () => {
    expect(encodeSmethodArgs([['rocks', '20'], ['height', '5.6m']])).toBe('rocks=20,height=5.6m')
    expect(encodeSmethodArgs([['url', 'https://h/p?a=b,c']])).toBe('url=https://h/p?a\\=b\\,c')
  })

  // pt-spec §3.2.3 example: "scramblesuit:key=banana;automata:rule=110;automata:depth=3".
  it('reads TOR_PT_SERVER_TRANSPORT_OPTIONS for one transport', () => {
    const opts = 'scramblesuit:key=banana;automata:rule=110;automata:depth=3'
    expect(decodeServerTransportOptions(opts, 'automata')).toEqual([['rule', '110'], ['depth', '3']])
    expect(decodeServerTransportOptions('webtunnel:url=https://h/p\\;x', 'webtunnel')).toEqual([['url', 'https://h/p;x']])
  })
})

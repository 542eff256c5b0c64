import { describe, expect, it } from 'vitest'
import { concatBytes, fromHex, WireError } from '../wire/bytes.js'
import {
  decodeExtOrMessage,
  encodeExtOrMessage,
  EXT_OR_COOKIE_HEADER,
  ExtOrCommand,
  extOrClientHash,
  ExtOrPortClient,
  extOrServerHash,
  formatUserAddr,
  parseExtOrCookieFile,
  type ExtOrClientEvent,
} from './ext-orport.js'

const cookie = Uint8Array.from({ length: 32 }, (_, i) => i)
const clientNonce = Uint8Array.from({ length: 32 }, (_, i) => 0x20 + i)
const serverNonce = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i)
// Computed from ext-orport-spec §2.1.2's definitions with OpenSSL, independently of this code:
// (printf 'ExtORPort authentication server-to-client hash'; <ClientNonce><ServerNonce>) |
//   openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f   (and likewise client-to-server)
const SERVER_HASH = fromHex('67cb22838690cf4c49434d4ea3164fbdcc936e46fd90ee62f511639a8456d133')
const CLIENT_HASH = fromHex('4becde5c2fe8a9fed908d74f79be128d73abfbf82c009d3bdc17b4bc02740d58')

const sends = (evs: ExtOrClientEvent[]) => evs.flatMap((e) => (e.kind === 'send' ? [e.bytes] : []))

describe('Extended ORPort SAFE_COOKIE', () => {
  it('computes the spec hashes', () => {
    expect(extOrServerHash(cookie, clientNonce, serverNonce)).toEqual(SERVER_HASH)
    expect(extOrClientHash(cookie, clientNonce, serverNonce)).toEqual(CLIENT_HASH)
  })

  it('reads the cookie file and checks its header', () => {
    expect(parseExtOrCookieFile(concatBytes(EXT_OR_COOKIE_HEADER, cookie))).toEqual(cookie)
    const badHeader = concatBytes(EXT_OR_COOKIE_HEADER, cookie)
    badHeader[0] ^= 1
    expect(() => parseExtOrCookieFile(badHeader)).toThrow(WireError)
    expect(() => parseExtOrCookieFile(cookie)).toThrow(WireError)
  })

  it('runs the whole client side, byte by byte', () => {
    const c = new ExtOrPortClient({ cookie, clientNonce, userAddr: formatUserAddr('192.0.2.7', 60000), transport: 'webtunnel' })
    const torSays = [Uint8Array.of(1, 0), concatBytes(SERVER_HASH, serverNonce), Uint8Array.of(1), encodeExtOrMessage({ command: ExtOrCommand.OKAY, body: new Uint8Array(0) })]
    const out: ExtOrClientEvent[] = []
    for (const b of concatBytes(...torSays)) out.push(...c.receive(Uint8Array.of(b)))
    const sent = sends(out)
    expect(sent[0]).toEqual(concatBytes(Uint8Array.of(1), clientNonce))
    expect(sent[1]).toEqual(CLIENT_HASH)
    // USERADDR "192.0.2.7:60000" (15 bytes), TRANSPORT "webtunnel" (9 bytes), DONE, per §3.1.
    const enc = new TextEncoder()
    expect(sent[2]).toEqual(
      concatBytes(
        Uint8Array.of(0, 1, 0, 15), enc.encode('192.0.2.7:60000'),
        Uint8Array.of(0, 2, 0, 9), enc.encode('webtunnel'),
        Uint8Array.of(0, 0, 0, 0),
      ),
    )
    expect(out.at(-1)).toEqual({ kind: 'okay', leftover: new Uint8Array(0) })
    expect(c.finished).toBe(true)
  })

  it('ignores unknown commands before OKAY and keeps bytes after it', () => {
    const c = new ExtOrPortClient({ cookie, clientNonce, transport: 'webtunnel' })
    c.receive(Uint8Array.of(3, 1, 0))
    c.receive(concatBytes(SERVER_HASH, serverNonce))
    c.receive(Uint8Array.of(1))
    const evs = c.receive(concatBytes(encodeExtOrMessage({ command: ExtOrCommand.CONTROL, body: Uint8Array.of(9, 9) }), encodeExtOrMessage({ command: ExtOrCommand.OKAY, body: new Uint8Array(0) }), Uint8Array.of(0x16, 3)))
    expect(evs).toEqual([{ kind: 'okay', leftover: Uint8Array.of(0x16, 3) }])
  })

  it('refuses a wrong ServerHash (wrong cookie) without sending ClientHash', () => {
    const c = new ExtOrPortClient({ cookie, clientNonce })
    c.receive(Uint8Array.of(1, 0))
    const wrong = SERVER_HASH.slice()
    wrong[31] ^= 0x80
    const evs = c.receive(concatBytes(wrong, serverNonce))
    expect(sends(evs)).toEqual([])
    expect(evs[0]).toMatchObject({ kind: 'error' })
    expect(c.finished).toBe(true)
  })

  it('stops on DENY, on status 0, and when SAFE_COOKIE is not offered', () => {
    const deny = new ExtOrPortClient({ cookie, clientNonce })
    deny.receive(Uint8Array.of(1, 0))
    deny.receive(concatBytes(SERVER_HASH, serverNonce, Uint8Array.of(1)))
    expect(deny.receive(encodeExtOrMessage({ command: ExtOrCommand.DENY, body: new Uint8Array(0) }))).toEqual([{ kind: 'deny' }])
    const status0 = new ExtOrPortClient({ cookie, clientNonce })
    status0.receive(Uint8Array.of(1, 0))
    expect(status0.receive(concatBytes(SERVER_HASH, serverNonce, Uint8Array.of(0)))[1]).toMatchObject({ kind: 'error' })
    const noCookie = new ExtOrPortClient({ cookie, clientNonce })
    expect(noCookie.receive(Uint8Array.of(2, 0))[0]).toMatchObject({ kind: 'error' })
  })

  it('formats USERADDR for IPv4, IPv6 and IPv4-mapped addresses', () => {
    expect(formatUserAddr('1.2.3.4', 5678)).toBe('1.2.3.4:5678')
    expect(formatUserAddr('1:2::3:4', 5678)).toBe('[1:2::3:4]:5678')
    expect(formatUserAddr('::ffff:127.0.0.1', 1)).toBe('127.0.0.1:1')
  })

  it('decodes a message and says how much more it needs', () => {
    expect(decodeExtOrMessage(Uint8Array.of(0x10, 0x00, 0, 0, 7))).toEqual({ message: { command: 0x1000, body: new Uint8Array(0) }, used: 4 })
    expect(() => decodeExtOrMessage(Uint8Array.of(0, 1, 0, 5, 1))).toThrow(expect.objectContaining({ code: 'truncated' }))
  })
})

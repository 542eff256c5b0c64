import { execFileSync } from 'node:child_process'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WireError, fromHex, toHex } from '../wire/bytes.js'
import { hkdfExpandLabel, trafficKeyAndIv } from './hkdf-label.js'
import { tls12Prf } from './prf.js'
import { ConnectionSecrets, parseKeylogLine, serverRandomFromRecord } from './secrets.js'
import { ktlsSuite } from './suites.js'
import { kernelCryptoInfo, tls12KeyBlock, tls13DirectionKeys } from './traffic-keys.js'

const RUNS = process.env.SULTRY_QUICK === '1' ? 300 : 10_000
const enc = (s: string) => new TextEncoder().encode(s)

/** OpenSSL's own KDF implementations (`openssl kdf`), an oracle independent of our code. */
function opensslKdf(args: string[]): string {
  return execFileSync('openssl', ['kdf', ...args], { encoding: 'utf8' }).trim().replace(/:/g, '').toLowerCase()
}

describe('TLS 1.3 traffic keys', () => {
  // RFC 8448 §3 (Simple 1-RTT Handshake), "derive write traffic keys for handshake data".
  it('derives the RFC 8448 server and client handshake write key/iv', () => {
    const server = trafficKeyAndIv('sha256', fromHex('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38'), 16)
    expect(toHex(server.key)).toBe('3fce516009c21727d0f2e4e86ee403bc')
    expect(toHex(server.iv)).toBe('5d313eb2671276ee13000b30')
    const client = trafficKeyAndIv('sha256', fromHex('b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21'), 16)
    expect(toHex(client.key)).toBe('dbfaa693d1762c5b666af5d950258d01')
    expect(toHex(client.iv)).toBe('5bd3c71b836e0b76bb73265f')
  })

  it('agrees with OpenSSL TLS13-KDF for SHA-384 (AES-256-GCM key length)', () => {
    const secret = fromHex('00112233445566778899aabbccddeeff'.repeat(3))
    const ours = hkdfExpandLabel('sha384', secret, 'key', new Uint8Array(0), 32)
    const theirs = opensslKdf(['-keylen', '32', '-kdfopt', 'digest:SHA384', '-kdfopt', 'mode:EXPAND_ONLY', '-kdfopt', `hexkey:${toHex(secret)}`, '-kdfopt', 'prefix:tls13 ', '-kdfopt', 'label:key', '-kdfopt', 'hexdata:', 'TLS13-KDF'])
    expect(toHex(ours)).toBe(theirs)
  })

  it('splits the write iv into salt + iv for AES-GCM and keeps it whole for ChaCha', () => {
    const secret = fromHex('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38')
    const aes = kernelCryptoInfo(ktlsSuite('TLS_AES_128_GCM_SHA256', 'TLSv1.3')!, tls13DirectionKeys(ktlsSuite('TLS_AES_128_GCM_SHA256', 'TLSv1.3')!, secret), 0n)
    expect(toHex(aes.salt)).toBe('5d313eb2')
    expect(toHex(aes.iv)).toBe('671276ee13000b30')
    expect(toHex(aes.recSeq)).toBe('0000000000000000')
    const chachaSuite = ktlsSuite('TLS_CHACHA20_POLY1305_SHA256', 'TLSv1.3')!
    const chacha = kernelCryptoInfo(chachaSuite, tls13DirectionKeys(chachaSuite, secret), 3n)
    expect([chacha.salt.length, chacha.iv.length, chacha.key.length, toHex(chacha.recSeq)]).toEqual([0, 12, 32, '0000000000000003'])
  })
})

describe('TLS 1.2 key block', () => {
  it('PRF agrees with OpenSSL TLS1-PRF (SHA-256 and SHA-384)', () => {
    const secret = fromHex('9bbe436ba940f017b17652849a71db35')
    const seed = fromHex('a0ba9f936cda311827a6f796ffd5198c')
    for (const [hash, digest] of [['sha256', 'SHA256'], ['sha384', 'SHA384']] as const) {
      const ours = tls12Prf(hash, secret, 'test label', seed, 100)
      const theirs = opensslKdf(['-keylen', '100', '-kdfopt', `digest:${digest}`, '-kdfopt', `hexsecret:${toHex(secret)}`, '-kdfopt', `hexseed:${toHex(enc('test label'))}${toHex(seed)}`, 'TLS1-PRF'])
      expect(toHex(ours)).toBe(theirs)
    }
  })

  it('partitions the key block: keys, then 4-byte GCM salts / 12-byte ChaCha ivs', () => {
    const master = fromHex('11'.repeat(48))
    const cr = fromHex('22'.repeat(32))
    const sr = fromHex('33'.repeat(32))
    const gcm = ktlsSuite('ECDHE-RSA-AES128-GCM-SHA256', 'TLSv1.2')!
    const block = fromHex(opensslKdf(['-keylen', '40', '-kdfopt', 'digest:SHA256', '-kdfopt', `hexsecret:${toHex(master)}`, '-kdfopt', `hexseed:${toHex(enc('key expansion'))}${toHex(sr)}${toHex(cr)}`, 'TLS1-PRF']))
    const keys = tls12KeyBlock(gcm, master, cr, sr)
    expect(toHex(keys.client.key)).toBe(toHex(block.subarray(0, 16)))
    expect(toHex(keys.server.key)).toBe(toHex(block.subarray(16, 32)))
    expect(toHex(keys.client.writeIv)).toBe(toHex(block.subarray(32, 36)))
    expect(toHex(keys.server.writeIv)).toBe(toHex(block.subarray(36, 40)))
    const info = kernelCryptoInfo(gcm, keys.server, 1n)
    expect(toHex(info.salt)).toBe(toHex(block.subarray(36, 40)))
    expect(toHex(info.iv)).toBe('0000000000000001')
    const chacha = ktlsSuite('ECDHE-RSA-CHACHA20-POLY1305', 'TLSv1.2')!
    const ck = tls12KeyBlock(chacha, master, cr, sr)
    expect([ck.client.key.length, ck.client.writeIv.length]).toEqual([32, 12])
  })

  it('knows which negotiated suites the kernel can carry', () => {
    expect(ktlsSuite('ECDHE-ECDSA-AES256-GCM-SHA384', 'TLSv1.2')?.cipherType).toBe(52)
    expect(ktlsSuite('ECDHE-RSA-AES128-SHA256', 'TLSv1.2')).toBeUndefined()
    expect(ktlsSuite('TLS_AES_128_CCM_SHA256', 'TLSv1.3')).toBeUndefined()
    expect(ktlsSuite('TLS_AES_128_GCM_SHA256', 'TLSv1.2')).toBeUndefined()
  })
})

describe('key log lines', () => {
  const cr = 'ab'.repeat(32)
  it('parses TLS 1.3 and TLS 1.2 lines into a connection\'s secrets', () => {
    const s = new ConnectionSecrets()
    s.add(enc(`CLIENT_TRAFFIC_SECRET_0 ${cr} ${'01'.repeat(32)}\n`))
    expect(s.tls13()).toBeUndefined()
    s.add(enc(`SERVER_TRAFFIC_SECRET_0 ${cr} ${'02'.repeat(48)}\n`))
    expect(toHex(s.tls13()!.server)).toBe('02'.repeat(48))
    s.add(enc(`CLIENT_RANDOM ${cr} ${'0F'.repeat(48)}`))
    expect(toHex(s.tls12()!.masterSecret)).toBe('0f'.repeat(48))
    const kept = s.tls13()!.client
    s.wipe()
    expect(kept.every((b) => b === 0)).toBe(true)
    expect(s.tls13()).toBeUndefined()
  })

  it('round-trips any well-formed line', () => {
    const line = fc.record({
      label: fc.stringMatching(/^[A-Z0-9_]{1,40}$/),
      clientRandom: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      secret: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    })
    fc.assert(fc.property(line, fc.boolean(), (e, nl) => {
      const parsed = parseKeylogLine(enc(`${e.label} ${toHex(e.clientRandom)} ${toHex(e.secret)}${nl ? '\n' : ''}`))
      expect(parsed).toEqual(e)
    }), { numRuns: RUNS })
  })

  it('throws only WireError on random and mutated lines', () => {
    const valid = enc(`SERVER_TRAFFIC_SECRET_0 ${cr} ${'02'.repeat(32)}\n`)
    const mutated = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat()).map(([at, v, cut]) => {
      const m = valid.slice(0, valid.length - (cut % 10))
      m[at % m.length] = v
      return m
    })
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 600, size: 'max' }), mutated), (b) => {
      try { parseKeylogLine(b) } catch (e) { expect(e).toBeInstanceOf(WireError) }
    }), { numRuns: RUNS })
  })
})

describe('ServerHello.random', () => {
  // Shape from RFC 5246 §7.4.1.3: 16 03 03 <len> | 02 <len24> | 03 03 | random[32] | ...
  it('reads the random from the first server handshake record', () => {
    const random = 'cd'.repeat(32)
    const hello = `0303${random}00c02f00`
    const msg = `02${(hello.length / 2).toString(16).padStart(6, '0')}${hello}`
    const rec = fromHex(`160303${(msg.length / 2).toString(16).padStart(4, '0')}${msg}`)
    expect(toHex(serverRandomFromRecord(rec))).toBe(random)
  })

  it('throws only WireError on other input', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120, size: 'max' }), (b) => {
      try { expect(serverRandomFromRecord(b).length).toBe(32) } catch (e) { expect(e).toBeInstanceOf(WireError) }
    }), { numRuns: RUNS })
  })
})

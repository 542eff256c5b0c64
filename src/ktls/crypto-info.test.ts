import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WireError, fromHex, toHex } from '../wire/bytes.js'
import { SOL_TLS, TCP_ULP, TLS_1_2_VERSION, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, TLS_CIPHER_AES_GCM_256, TLS_CIPHER_CHACHA20_POLY1305, TLS_RX, TLS_TX } from './constants.js'
import { CRYPTO_INFO_LAYOUT, decodeCryptoInfo, encodeCryptoInfo, type CryptoInfo } from './crypto-info.js'

const RUNS = process.env.SULTRY_QUICK === '1' ? 300 : 10_000

const seq = (n: number, len: number, from: number) => Uint8Array.from({ length: len }, (_, i) => (from + i) & 0xff)

describe('crypto_info bytes', () => {
  // Golden bytes written by hand from the layout table in /work/shared/notes/ktls.md §1.1
  // (tls12_crypto_info_aes_gcm_128: version, cipher_type little-endian u16; iv 8@4, key 16@12, salt 4@28, rec_seq 8@32).
  it('lays out AES-128-GCM for TLS 1.3 exactly (40 bytes)', () => {
    const info: CryptoInfo = { version: TLS_1_3_VERSION, cipherType: TLS_CIPHER_AES_GCM_128, iv: seq(0, 8, 0xa0), key: seq(0, 16, 0x10), salt: seq(0, 4, 0xc0), recSeq: fromHex('0000000000000002') }
    expect(toHex(encodeCryptoInfo(info, true))).toBe(
      '0403' + '3300' + 'a0a1a2a3a4a5a6a7' + '101112131415161718191a1b1c1d1e1f' + 'c0c1c2c3' + '0000000000000002',
    )
  })

  // tls12_crypto_info_aes_gcm_256: iv 8@4, key 32@12, salt 4@44, rec_seq 8@48, size 56.
  it('lays out AES-256-GCM for TLS 1.2 exactly (56 bytes)', () => {
    const info: CryptoInfo = { version: TLS_1_2_VERSION, cipherType: TLS_CIPHER_AES_GCM_256, iv: seq(0, 8, 0xa0), key: seq(0, 32, 0x20), salt: seq(0, 4, 0xc0), recSeq: fromHex('0000000000000001') }
    const b = encodeCryptoInfo(info, true)
    expect(b.length).toBe(56)
    expect(toHex(b)).toBe(
      '0303' + '3400' + 'a0a1a2a3a4a5a6a7' + '202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f' + 'c0c1c2c3' + '0000000000000001',
    )
  })

  // tls12_crypto_info_chacha20_poly1305: iv 12@4, key 32@16, no salt, rec_seq 8@48, size 56.
  it('lays out ChaCha20-Poly1305 exactly (56 bytes, 12-byte iv, no salt)', () => {
    const info: CryptoInfo = { version: TLS_1_3_VERSION, cipherType: TLS_CIPHER_CHACHA20_POLY1305, iv: seq(0, 12, 0xa0), key: seq(0, 32, 0x40), salt: new Uint8Array(0), recSeq: fromHex('0102030405060708') }
    expect(toHex(encodeCryptoInfo(info, true))).toBe(
      '0403' + '3600' + 'a0a1a2a3a4a5a6a7a8a9aaab' + '404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f' + '0102030405060708',
    )
  })

  it('writes the u16 header fields big-endian only when told the host is big-endian', () => {
    const info: CryptoInfo = { version: TLS_1_3_VERSION, cipherType: TLS_CIPHER_AES_GCM_128, iv: new Uint8Array(8), key: new Uint8Array(16), salt: new Uint8Array(4), recSeq: new Uint8Array(8) }
    expect(toHex(encodeCryptoInfo(info, false).subarray(0, 4))).toBe('03040033')
  })

  // The strongest oracle available here: the C compiler and this machine's <linux/tls.h>. Fill the real
  // structs with the same values and compare every byte, plus the header constants.
  it('matches the structs and constants compiled from <linux/tls.h>', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sultry-tlsh-'))
    const src = join(dir, 'layout.c')
    writeFileSync(src, `
#include <stdio.h>
#include <string.h>
#include <netinet/tcp.h>
#include <linux/tls.h>
static void dump(const void *p, size_t n) { const unsigned char *b = p; for (size_t i = 0; i < n; i++) printf("%02x", b[i]); printf("\\n"); }
static void fill(unsigned char *p, size_t n, int from) { for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(from + i); }
int main(void) {
  struct tls12_crypto_info_aes_gcm_128 a; memset(&a, 0, sizeof a);
  a.info.version = TLS_1_3_VERSION; a.info.cipher_type = TLS_CIPHER_AES_GCM_128;
  fill(a.iv, sizeof a.iv, 0xa0); fill(a.key, sizeof a.key, 0x10); fill(a.salt, sizeof a.salt, 0xc0); fill(a.rec_seq, sizeof a.rec_seq, 0x70);
  dump(&a, sizeof a);
  struct tls12_crypto_info_aes_gcm_256 b; memset(&b, 0, sizeof b);
  b.info.version = TLS_1_2_VERSION; b.info.cipher_type = TLS_CIPHER_AES_GCM_256;
  fill(b.iv, sizeof b.iv, 0xa0); fill(b.key, sizeof b.key, 0x20); fill(b.salt, sizeof b.salt, 0xc0); fill(b.rec_seq, sizeof b.rec_seq, 0x70);
  dump(&b, sizeof b);
  struct tls12_crypto_info_chacha20_poly1305 c; memset(&c, 0, sizeof c);
  c.info.version = TLS_1_2_VERSION; c.info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
  fill(c.iv, sizeof c.iv, 0xa0); fill(c.key, sizeof c.key, 0x40); fill(c.rec_seq, sizeof c.rec_seq, 0x70);
  dump(&c, sizeof c);
  printf("%d %d %d %d\\n", SOL_TLS, TLS_TX, TLS_RX, TCP_ULP);
  return 0;
}
`)
    execFileSync('cc', ['-o', join(dir, 'layout'), src])
    const lines = execFileSync(join(dir, 'layout'), { encoding: 'utf8' }).trim().split('\n')
    const mk = (version: 0x0303 | 0x0304, cipherType: 51 | 52 | 54, key: number): CryptoInfo => {
      const l = CRYPTO_INFO_LAYOUT[cipherType]
      return { version, cipherType, iv: seq(0, l.iv[1], 0xa0), key: seq(0, l.key[1], key), salt: seq(0, l.salt[1], 0xc0), recSeq: seq(0, 8, 0x70) }
    }
    expect(toHex(encodeCryptoInfo(mk(TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128, 0x10)))).toBe(lines[0])
    expect(toHex(encodeCryptoInfo(mk(TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_256, 0x20)))).toBe(lines[1])
    expect(toHex(encodeCryptoInfo(mk(TLS_1_2_VERSION, TLS_CIPHER_CHACHA20_POLY1305, 0x40)))).toBe(lines[2])
    expect(lines[3]).toBe(`${SOL_TLS} ${TLS_TX} ${TLS_RX} ${TCP_ULP}`)
  })

  it('rejects fields of the wrong length with a typed error', () => {
    const bad: CryptoInfo = { version: TLS_1_3_VERSION, cipherType: TLS_CIPHER_AES_GCM_128, iv: new Uint8Array(12), key: new Uint8Array(16), salt: new Uint8Array(4), recSeq: new Uint8Array(8) }
    expect(() => encodeCryptoInfo(bad)).toThrow(WireError)
  })

  const anyInfo = fc.constantFrom(TLS_CIPHER_AES_GCM_128, TLS_CIPHER_AES_GCM_256, TLS_CIPHER_CHACHA20_POLY1305).chain((cipherType) => {
    const l = CRYPTO_INFO_LAYOUT[cipherType]
    const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
    return fc.record({
      version: fc.constantFrom(TLS_1_2_VERSION, TLS_1_3_VERSION),
      cipherType: fc.constant(cipherType),
      iv: bytes(l.iv[1]), key: bytes(l.key[1]), salt: bytes(l.salt[1]), recSeq: bytes(8),
    })
  })

  it('round-trips any struct (both host byte orders)', () => {
    fc.assert(fc.property(anyInfo, fc.boolean(), (info, le) => {
      expect(decodeCryptoInfo(encodeCryptoInfo(info, le), le)).toEqual(info)
    }), { numRuns: RUNS })
  })

  it('reads arbitrary and mutated bytes with only WireError', () => {
    const mutated = fc.tuple(anyInfo, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: -3, max: 3 })).map(([info, at, v, cut]) => {
      const b = encodeCryptoInfo(info)
      const m = new Uint8Array(Math.max(0, b.length + cut))
      m.set(b.subarray(0, m.length))
      if (m.length) m[at % m.length] = v
      return m
    })
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 80, size: 'max' }), mutated), (b) => {
      try {
        const info = decodeCryptoInfo(b)
        expect(b.length).toBe(CRYPTO_INFO_LAYOUT[info.cipherType].size)
      } catch (e) {
        expect(e).toBeInstanceOf(WireError)
      }
    }), { numRuns: RUNS })
  })
})

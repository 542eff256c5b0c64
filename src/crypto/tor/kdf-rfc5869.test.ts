import { describe, expect, it } from 'vitest'
import { fromHex, toHex } from '../../wire/bytes.js'
import { NTOR_M_EXPAND, NTOR_T_KEY, kdfRfc5869, ntorKdf, splitTor1Keys } from './kdf-rfc5869.js'

const ascii = (s: string) => new TextEncoder().encode(s)

describe('KDF-RFC5869', () => {
  // RFC 5869 Appendix A.1 (also tor test_crypto.c test_crypto_hkdf_sha256_testvecs).
  it('matches RFC 5869 test case 1', () => {
    const okm = kdfRfc5869(fromHex('0b'.repeat(22)), fromHex('000102030405060708090a0b0c'), fromHex('f0f1f2f3f4f5f6f7f8f9'), 42)
    expect(toHex(okm)).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865')
  })

  // RFC 5869 Appendix A.3: zero-length salt and info.
  it('matches RFC 5869 test case 3', () => {
    const okm = kdfRfc5869(fromHex('0b'.repeat(22)), new Uint8Array(0), new Uint8Array(0), 42)
    expect(toHex(okm)).toBe('8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8')
  })

  // tor src/test/test_crypto.c test_crypto_hkdf_sha256, generated with ntor_ref.py; quoted in arti
  // crates/tor-proto/src/crypto/ll/kdf.rs testvec_ntor1_kdf.
  it('matches tor test_crypto_hkdf_sha256 with the ntor strings', () => {
    expect(String.fromCharCode(...NTOR_T_KEY)).toBe('ntor-curve25519-sha256-1:key_extract')
    expect(String.fromCharCode(...NTOR_M_EXPAND)).toBe('ntor-curve25519-sha256-1:key_expand')
    expect(toHex(ntorKdf(ascii('Tor'), 100))).toBe(
      '5521492a85139a8d9107a2d5c0d9c91610d0f95989975ebee6c02a4f8d622a6cfdf9b7c7edd3832e2760ded1eac309b76f8d' +
        '66c4a3c4d6225429b3a016e3c3d45911152fc87bc2de9630c3961be9fdb9f93197ea8e5977180801926d3321fa21513e59ac',
    )
    expect(toHex(ntorKdf(ascii('AN ALARMING ITEM TO FIND ON YOUR CREDIT-RATING STATEMENT'), 100))).toBe(
      'a2aa9b50da7e481d30463adb8f233ff06e9571a0ca6ab6df0fb206fa34e5bc78d063fc291501beec53b36e5a0e434561200c' +
        '5f8bd13e0f88b3459600b4dc21d69363e2895321c06184879d94b18f078411be70b767c7fc40679a9440a0c95ea83a23efbf',
    )
  })

  it('splits Df | Db | Kf | Kb | KH in spec order', () => {
    const k = Uint8Array.from({ length: 92 }, (_, i) => i)
    const keys = splitTor1Keys(k)
    expect([keys.Df[0], keys.Db[0], keys.Kf[0], keys.Kb[0], keys.KH![0]]).toEqual([0, 20, 40, 56, 72])
    expect([keys.Df.length, keys.Db.length, keys.Kf.length, keys.Kb.length, keys.KH!.length]).toEqual([20, 20, 16, 16, 20])
    expect(splitTor1Keys(k.subarray(0, 72)).KH).toBeUndefined()
  })
})

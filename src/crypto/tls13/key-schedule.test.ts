import { describe, expect, it } from 'vitest'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, fromHex, toHex } from '../../wire/bytes.js'
import { TLS_AES_128_GCM_SHA256, tls13CipherSuite } from './cipher-suites.js'
import { deriveSecret, earlySecret, handshakeSecret, hkdfExpand, hkdfExtract, masterSecret, trafficKeys } from './key-schedule.js'
import hkdfCase1 from './rfc5869.vectors.json' with { type: 'json' }
import v from './rfc8448-section3.vectors.json' with { type: 'json' }

describe('HKDF (RFC 5869 A.1)', () => {
  it('matches test case 1', () => {
    const prk = hkdfExtract(sha256, fromHex(hkdfCase1.salt), fromHex(hkdfCase1.ikm))
    expect(toHex(prk)).toBe(hkdfCase1.prk)
    expect(toHex(hkdfExpand(sha256, prk, fromHex(hkdfCase1.info), hkdfCase1.length))).toBe(hkdfCase1.okm)
  })
})

describe('TLS 1.3 key schedule (RFC 8448 §3)', () => {
  const hash = TLS_AES_128_GCM_SHA256.hash
  const helloMessages = concatBytes(fromHex(v.clientHello), fromHex(v.serverHello))

  it('derives early, handshake and master secrets from the (EC)DHE secret', () => {
    const early = earlySecret(hash)
    expect(toHex(early)).toBe(v.earlySecret)
    expect(toHex(deriveSecret(hash, early, 'derived', new Uint8Array(0)))).toBe(v.derivedForHandshake)
    const hs = handshakeSecret(hash, early, fromHex(v.ecdheSharedSecret))
    expect(toHex(hs)).toBe(v.handshakeSecret)
    expect(toHex(masterSecret(hash, hs))).toBe(v.masterSecret)
  })

  it('derives the handshake traffic secrets over ClientHello..ServerHello', () => {
    const hs = fromHex(v.handshakeSecret)
    expect(toHex(deriveSecret(hash, hs, 'c hs traffic', helloMessages))).toBe(v.clientHandshakeTrafficSecret)
    expect(toHex(deriveSecret(hash, hs, 's hs traffic', helloMessages))).toBe(v.serverHandshakeTrafficSecret)
  })

  it('derives traffic keys and ivs from the printed secrets', () => {
    const suite = tls13CipherSuite(0x1301)
    const keys = (s: string) => {
      const k = trafficKeys(suite, fromHex(s))
      return [toHex(k.key), toHex(k.iv)]
    }
    expect(keys(v.serverHandshakeTrafficSecret)).toEqual([v.serverHandshakeKey, v.serverHandshakeIv])
    expect(keys(v.clientHandshakeTrafficSecret)).toEqual([v.clientHandshakeKey, v.clientHandshakeIv])
    expect(keys(v.serverApplicationTrafficSecret0)).toEqual([v.serverApplicationKey, v.serverApplicationIv])
    expect(keys(v.clientApplicationTrafficSecret0)).toEqual([v.clientApplicationKey, v.clientApplicationIv])
  })

  it('refuses a suite it does not know with a typed error', () => {
    expect(() => tls13CipherSuite(0xc02f)).toThrowError(expect.objectContaining({ code: 'unsupported' }))
  })
})

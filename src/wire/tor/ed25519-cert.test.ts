import { describe, expect, it } from 'vitest'
import { ed25519 } from '@noble/curves/ed25519.js'
import { WireError, fromHex, toHex } from '../bytes.js'
import {
  CertKeyType,
  CertType,
  certSigningKey,
  decodeEd25519Cert,
  decodeRsaEd25519CrossCert,
  encodeEd25519Cert,
  encodeRsaEd25519CrossCert,
  hasUnknownCriticalExtension,
} from './ed25519-cert.js'
import { CERT_TYPE4_BODY, CERT_TYPE5_BODY, CERT_TYPE7_BODY } from './vectors.test-data.js'

// Certificates from a relay's CERTS cell in a chutney network (arti testvec_chanmsg.rs test_certs).
const IDENTITY = 'dcb604db2034b00fd16986d4adb9d16b21cb4e4457a33dec0f538903683e96e9'
const SIGNING = 'f82294b866a31f01fc5d0da8572850a9b929545c3266558d7d2316e3b74172b0'

describe('Ed25519 certificates (cert-spec §2.1)', () => {
  it('decodes the identity->signing certificate (type 4) and its signing-key extension', () => {
    const c = decodeEd25519Cert(fromHex(CERT_TYPE4_BODY))
    expect([c.certType, c.expirationHours, c.certKeyType]).toEqual([CertType.IDENTITY_V_SIGNING, 0x0006cc2a, CertKeyType.ED25519])
    expect(toHex(c.certifiedKey)).toBe(SIGNING)
    expect(c.extensions).toEqual([{ extType: 4, extFlags: 0, extData: fromHex(IDENTITY) }])
    expect(toHex(certSigningKey(c)!)).toBe(IDENTITY)
    expect(hasUnknownCriticalExtension(c)).toBe(false)
    expect(toHex(encodeEd25519Cert(c))).toBe(CERT_TYPE4_BODY.toLowerCase())
    // The signature is real: the identity key signed everything before SIGNATURE.
    expect(ed25519.verify(c.signature, c.signed, fromHex(IDENTITY))).toBe(true)
  })

  it('decodes the signing->TLS certificate (type 5), signed by the type-4 signing key', () => {
    const c = decodeEd25519Cert(fromHex(CERT_TYPE5_BODY))
    expect([c.certType, c.expirationHours, c.certKeyType, c.extensions.length]).toEqual([CertType.SIGNING_V_TLS_CERT, 0x0006c98a, CertKeyType.SHA256_OF_X509, 0])
    expect(toHex(encodeEd25519Cert(c))).toBe(CERT_TYPE5_BODY.toLowerCase())
    expect(ed25519.verify(c.signature, c.signed, fromHex(SIGNING))).toBe(true)
    const tampered = fromHex(CERT_TYPE5_BODY)
    tampered[10] ^= 1
    const t = decodeEd25519Cert(tampered)
    expect(ed25519.verify(t.signature, t.signed, fromHex(SIGNING))).toBe(false)
  })

  it('flags unknown extensions that affect validation', () => {
    const c = decodeEd25519Cert(fromHex(CERT_TYPE4_BODY))
    const withExt = decodeEd25519Cert(encodeEd25519Cert({ ...c, extensions: [...c.extensions, { extType: 9, extFlags: 1, extData: new Uint8Array(3) }] }))
    expect(hasUnknownCriticalExtension(withExt)).toBe(true)
  })

  it('rejects other versions, a short signing-key extension, and trailing bytes', () => {
    const code = (b: Uint8Array) => {
      try {
        decodeEd25519Cert(b)
      } catch (e) {
        if (e instanceof WireError) return e.code
        throw e
      }
      return 'ok'
    }
    const v2 = fromHex(CERT_TYPE4_BODY)
    v2[0] = 2
    expect(code(v2)).toBe('unsupported')
    const shortExt = fromHex(CERT_TYPE4_BODY)
    shortExt[41] = 0x1f // ExtLen (bytes 40-41) 0x0020 -> 0x001f for type 4
    expect(code(shortExt)).toBe('bad-length')
    expect(code(fromHex(CERT_TYPE5_BODY + '00'))).toBe('trailing')
    expect(code(fromHex(CERT_TYPE5_BODY).subarray(0, 100))).toBe('bad-length')
  })
})

describe('RSA->Ed25519 cross-certificate (cert-spec §2.3)', () => {
  it('decodes the type-7 certificate from the same CERTS cell', () => {
    const c = decodeRsaEd25519CrossCert(fromHex(CERT_TYPE7_BODY))
    expect(toHex(c.ed25519Key)).toBe(IDENTITY)
    expect(c.expirationHours).toBe(0x0006da3a)
    expect(c.signature.length).toBe(128) // RSA-1024
    expect(c.signed.length).toBe(36)
    expect(toHex(encodeRsaEd25519CrossCert(c))).toBe(CERT_TYPE7_BODY.toLowerCase())
  })
})

import { X509Certificate, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { connect, createServer } from 'node:tls'
import { describe, expect, it } from 'vitest'
import { toHex } from '../wire/bytes.js'
import { RngStream } from '../net/sim/rng.js'
import { generateRsaPrivateKey } from './rsa-keygen.js'
import { certificatePem, derTime, selfSignedCertificate } from './x509-self-signed.js'

const DAY = 86_400_000
const ed = generateKeyPairSync('ed25519').privateKey
const rsaStream = new RngStream(1, 'x509-test')
const rsa = generateRsaPrivateKey((n) => rsaStream.bytes(n), 1024)
const serial = Uint8Array.of(0x8a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07)

const make = (key: KeyObject, notBeforeMs: number, notAfterMs: number, commonName = 'www.example.net') =>
  selfSignedCertificate({ key, commonName, notBeforeMs, notAfterMs, serial })

describe('derTime', () => {
  it('writes UTCTime YYMMDDHHMMSSZ for 1950..2049 and GeneralizedTime YYYYMMDDHHMMSSZ otherwise (RFC 5280 §4.1.2.5)', () => {
    const ascii = (t: Uint8Array) => Buffer.from(t.subarray(2)).toString('latin1')
    expect(derTime(0)[0]).toBe(0x17)
    expect(ascii(derTime(0))).toBe('700101000000Z')
    expect(ascii(derTime(Date.UTC(2049, 11, 31, 23, 59, 59, 999)))).toBe('491231235959Z')
    expect(derTime(Date.UTC(2050, 0, 1))[0]).toBe(0x18)
    expect(ascii(derTime(Date.UTC(2050, 0, 1)))).toBe('20500101000000Z')
    expect(ascii(derTime(Date.UTC(1950, 0, 1)))).toBe('500101000000Z')
    expect(ascii(derTime(Date.UTC(1949, 11, 31, 12)))).toBe('19491231120000Z')
    expect(derTime(0)[1]).toBe(13)
    expect(() => derTime(Number.NaN)).toThrow(RangeError)
  })
})

describe('selfSignedCertificate', () => {
  for (const [label, key] of [['RSA-1024 (sha256WithRSAEncryption)', rsa], ['Ed25519', ed]] as const) {
    it(`${label}: node parses it, it verifies with its own key, and its fields are the ones asked for`, () => {
      const from = Date.UTC(2026, 0, 2, 3, 4, 5)
      const to = from + 365 * DAY
      const der = make(key, from, to)
      const cert = new X509Certificate(der)
      expect(cert.verify(createPublicKey(key))).toBe(true)
      expect(cert.subject).toBe('CN=www.example.net')
      expect(cert.issuer).toBe('CN=www.example.net')
      expect(Date.parse(cert.validFrom)).toBe(from)
      expect(Date.parse(cert.validTo)).toBe(to)
      expect(cert.serialNumber.toLowerCase()).toBe(toHex(serial))
      expect(cert.publicKey.asymmetricKeyType).toBe(key.asymmetricKeyType)
      expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(createPublicKey(key).export({ type: 'spki', format: 'der' }))
      // Another key does not verify it, and a flipped signature bit breaks it.
      expect(cert.verify(generateKeyPairSync('ed25519').publicKey)).toBe(false)
      const bad = der.slice()
      bad[bad.length - 1] ^= 1
      expect(new X509Certificate(bad).verify(createPublicKey(key))).toBe(false)
    })

    it(`${label}: same inputs give the same bytes`, () => {
      expect(toHex(make(key, 0, DAY))).toBe(toHex(make(key, 0, DAY)))
    })
  }

  it('covers the simulated epoch (1970) and dates past 2049', () => {
    const cert = new X509Certificate(make(ed, 0, Date.UTC(2051, 5, 1)))
    expect(Date.parse(cert.validFrom)).toBe(0)
    expect(Date.parse(cert.validTo)).toBe(Date.UTC(2051, 5, 1))
  })

  it('drops milliseconds (X.509 times have whole seconds)', () => {
    const cert = new X509Certificate(make(ed, 1999, 10_999))
    expect(Date.parse(cert.validFrom)).toBe(1000)
    expect(Date.parse(cert.validTo)).toBe(10_000)
  })

  it('encodes a long common name (long-form DER lengths) and a serial with its top bit set as a positive INTEGER', () => {
    const cn = 'relay-' + 'x'.repeat(200)
    const cert = new X509Certificate(make(ed, 0, DAY, cn))
    expect(cert.subject).toBe(`CN=${cn}`)
    expect(cert.serialNumber.toLowerCase()).toBe(toHex(serial)) // 0x8a… stays positive: node would show a 00/FF prefix otherwise
  })

  it('refuses public keys, unsupported key types, bad serials and inverted validity', () => {
    expect(() => make(createPublicKey(ed) as KeyObject, 0, DAY)).toThrow(TypeError)
    expect(() => make(generateKeyPairSync('x25519').privateKey, 0, DAY)).toThrow(TypeError)
    expect(() => selfSignedCertificate({ key: ed, commonName: 'a', notBeforeMs: 0, notAfterMs: DAY, serial: new Uint8Array(0) })).toThrow(RangeError)
    expect(() => selfSignedCertificate({ key: ed, commonName: 'a', notBeforeMs: 0, notAfterMs: DAY, serial: new Uint8Array(21).fill(1) })).toThrow(RangeError)
    expect(() => make(ed, DAY, 0)).toThrow(RangeError)
  })

  const hasOpenssl = spawnSync('openssl', ['version']).status === 0
  it.skipIf(!hasOpenssl)('openssl x509 reads both kinds and shows the same subject and dates', () => {
    for (const key of [rsa, ed]) {
      const r = spawnSync('openssl', ['x509', '-inform', 'der', '-noout', '-subject', '-startdate', '-enddate'], { input: make(key, 0, Date.UTC(2051, 0, 1)) })
      expect(r.status).toBe(0)
      const out = r.stdout.toString()
      expect(out).toContain('CN = www.example.net')
      expect(out).toContain('notBefore=Jan  1 00:00:00 1970 GMT')
      expect(out).toContain('notAfter=Jan  1 00:00:00 2051 GMT')
    }
  })

  it('an Ed25519 certificate made here serves a TLS 1.3 handshake in node:tls, and the client sees exactly our DER', async () => {
    // Dates as a simulated relay has them: from the sim epoch; the server side does not check them.
    const der = make(ed, 0, Date.UTC(2051, 0, 1))
    const keyPem = ed.export({ type: 'pkcs8', format: 'pem' }) as string
    const server = createServer({ key: keyPem, cert: certificatePem(der), minVersion: 'TLSv1.3' }, (s) => s.end('hello'))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      const { port } = server.address() as AddressInfo
      const client = connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      await once(client, 'secureConnect')
      expect(client.getProtocol()).toBe('TLSv1.3')
      expect(toHex(client.getPeerCertificate(true).raw)).toBe(toHex(der))
      let got = ''
      client.on('data', (d: Buffer) => (got += d.toString()))
      await once(client, 'end')
      expect(got).toBe('hello')
      client.destroy()
    } finally {
      server.close()
    }
  })
})

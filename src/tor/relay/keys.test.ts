import { X509Certificate, createHash, createPublicKey, sign, verify } from 'node:crypto'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { connect, createServer } from 'node:tls'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { describe, expect, it } from 'vitest'
import { ntorClientCreate, ntorClientFinish, ntorServerRespond } from '../../crypto/tor/ntor.js'
import { RngStream } from '../../net/sim/rng.js'
import { toHex } from '../../wire/bytes.js'
import { generateRelayKeys, ntorSecretOf, type RelayKeys } from './keys.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 5, 1)

const seeded = (seed: number, name = 'relay/keys') => {
  const s = new RngStream(seed, name)
  return (n: number) => s.bytes(n)
}

const keysA = generateRelayKeys(seeded(1), 'relayA', NOW)

/** Every byte of a relay's key material and certificates, for comparisons. */
function fingerprintAll(k: RelayKeys): string {
  return [
    k.nickname,
    toHex(k.rsaId),
    toHex(new Uint8Array(k.rsaIdentity.export({ type: 'pkcs1', format: 'der' }))),
    toHex(k.ed25519Identity.secret),
    toHex(k.ed25519Signing.secret),
    toHex(k.ntor.secret),
    k.tls.keyPem,
    k.tls.certPem,
    toHex(k.tls.certDer),
    toHex(k.rsaIdentityCertDer),
  ].join('|')
}

describe('generateRelayKeys', () => {
  it('is a function of the random stream: same seed, same bytes; another seed, another relay', () => {
    expect(fingerprintAll(generateRelayKeys(seeded(1), 'relayA', NOW))).toBe(fingerprintAll(keysA))
    const other = generateRelayKeys(seeded(2), 'relayA', NOW)
    expect(toHex(other.rsaId)).not.toBe(toHex(keysA.rsaId))
    expect(toHex(other.ed25519Identity.public)).not.toBe(toHex(keysA.ed25519Identity.public))
    expect(toHex(other.ntor.public)).not.toBe(toHex(keysA.ntor.public))
  })

  it('the time changes only certificate dates, never keys', () => {
    const later = generateRelayKeys(seeded(1), 'relayA', NOW + 400 * DAY)
    expect(toHex(later.rsaId)).toBe(toHex(keysA.rsaId))
    expect(toHex(later.ed25519Identity.secret)).toBe(toHex(keysA.ed25519Identity.secret))
    expect(toHex(later.ntor.secret)).toBe(toHex(keysA.ntor.secret))
    expect(later.tls.keyPem).toBe(keysA.tls.keyPem)
    expect(toHex(later.tls.certDer)).not.toBe(toHex(keysA.tls.certDer))
  })

  it('the RSA identity is 1024-bit and rsaId is SHA-1 of its PKCS#1 DER public key', () => {
    expect(keysA.nickname).toBe('relayA')
    expect(keysA.rsaIdentity.asymmetricKeyType).toBe('rsa')
    expect(keysA.rsaIdentity.asymmetricKeyDetails?.modulusLength).toBe(1024)
    const pkcs1 = createPublicKey(keysA.rsaIdentity).export({ type: 'pkcs1', format: 'der' })
    expect(toHex(keysA.rsaId)).toBe(createHash('sha1').update(pkcs1).digest('hex'))
  })

  it('Ed25519 key pairs sign and verify; the two are distinct', () => {
    for (const pair of [keysA.ed25519Identity, keysA.ed25519Signing]) {
      expect(pair.secret.length).toBe(32)
      expect(pair.public.length).toBe(32)
      const msg = new TextEncoder().encode('certify me')
      expect(ed25519.verify(ed25519.sign(msg, pair.secret), msg, pair.public)).toBe(true)
    }
    expect(toHex(keysA.ed25519Identity.public)).not.toBe(toHex(keysA.ed25519Signing.public))
  })

  it('the ntor key agrees with a client by x25519, and ntorSecretOf runs a full ntor handshake', () => {
    const clientSecret = seeded(9)(32)
    expect(toHex(x25519.getSharedSecret(keysA.ntor.secret, x25519.getPublicKey(clientSecret)))).toBe(
      toHex(x25519.getSharedSecret(clientSecret, keysA.ntor.public)),
    )
    const relay = ntorSecretOf(keysA)
    expect(toHex(relay.nodeId)).toBe(toHex(keysA.rsaId))
    const { state, onionSkin } = ntorClientCreate({ nodeId: keysA.rsaId, ntorOnionKey: keysA.ntor.public }, clientSecret)
    const { reply, keyMaterial } = ntorServerRespond(onionSkin, relay, seeded(10)(32))
    expect(toHex(ntorClientFinish(state, reply))).toBe(toHex(keyMaterial))
  })

  it('the TLS certificate is self-signed by the TLS key, for a year from a day before now', () => {
    const cert = new X509Certificate(keysA.tls.certDer)
    expect(new X509Certificate(keysA.tls.certPem).raw.equals(Buffer.from(keysA.tls.certDer))).toBe(true)
    expect(cert.verify(createPublicKey(keysA.tls.key))).toBe(true)
    expect(cert.publicKey.asymmetricKeyType).toBe('ed25519')
    expect(cert.subject).toMatch(/^CN=www\.[a-z2-7]{8,20}\.net$/)
    expect(Date.parse(cert.validFrom)).toBe(NOW - DAY)
    expect(Date.parse(cert.validTo)).toBe(NOW + 365 * DAY)
    // keyPem is the same key as the KeyObject.
    const msg = Buffer.from('link')
    expect(verify(null, msg, cert.publicKey, sign(null, msg, keysA.tls.keyPem))).toBe(true)
  })

  it('the type-2 certificate is self-signed by the RSA identity', () => {
    const cert = new X509Certificate(keysA.rsaIdentityCertDer)
    expect(cert.verify(createPublicKey(keysA.rsaIdentity))).toBe(true)
    expect(cert.subject).toMatch(/^CN=www\.[a-z2-7]{8,20}\.com$/)
    expect(cert.publicKey.export({ type: 'pkcs1', format: 'der' })).toEqual(createPublicKey(keysA.rsaIdentity).export({ type: 'pkcs1', format: 'der' }))
  })

  it('at the simulated epoch the certificates start at 0 rather than before it', () => {
    const k = generateRelayKeys(seeded(3), 'early', 0)
    for (const der of [k.tls.certDer, k.rsaIdentityCertDer]) {
      const cert = new X509Certificate(der)
      expect(Date.parse(cert.validFrom)).toBe(0)
      expect(Date.parse(cert.validTo)).toBe(365 * DAY)
    }
  })

  it('node:tls serves a TLS 1.3 handshake with keys.tls, presenting certDer', async () => {
    const server = createServer({ key: keysA.tls.keyPem, cert: keysA.tls.certPem, minVersion: 'TLSv1.3' }, (s) => s.end())
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      const client = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, rejectUnauthorized: false })
      await once(client, 'secureConnect')
      expect(client.getProtocol()).toBe('TLSv1.3')
      expect(toHex(client.getPeerCertificate(true).raw)).toBe(toHex(keysA.tls.certDer))
      client.destroy()
    } finally {
      server.close()
    }
  })
})

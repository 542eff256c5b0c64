// Probe-driven offers: the offer is a function of the probe result alone, and what Node then puts
// in the ClientHello is checked on the wire (Node splits `ciphers` into TLS 1.3 suites and a TLS 1.2
// list, and an empty half would otherwise leave OpenSSL's defaults in place).
// Expected code points come from the RFCs, not from suites.ts: RFC 8446 App. B.4 (0x1301-0x1303),
// RFC 5289 §3 (0xC02B/0xC02C ECDSA, 0xC02F/0xC030 RSA AES-GCM), RFC 7905 §2 (0xCCA8 RSA, 0xCCA9 ECDSA ChaCha).

import { constants } from 'node:os'
import tls from 'node:tls'
import { describe, expect, it } from 'vitest'
import { kernelOffer, offeredRange, type KernelOffer, type ProbeResult } from './offer.js'
import { captureClientHello, type OfferedHello } from './testkit/client-hello.js'

const { ENOENT, EINVAL, ENOPROTOOPT } = constants.errno
const ALL_OK = { 'tls12-51': 0, 'tls12-52': 0, 'tls12-54': 0, 'tls13-51': 0, 'tls13-52': 0, 'tls13-54': 0 }
const probe = (suites: Record<string, number>, ulp = 0): ProbeResult => ({ ulp, suites })
const ok = (o: KernelOffer) => {
  if ('none' in o) throw new Error(`unexpected none: ${o.none}`)
  return o
}

describe('kernelOffer (pure)', () => {
  it('every suite accepted: all nine kTLS suites, TLS 1.2 to 1.3', () => {
    const o = ok(kernelOffer(probe(ALL_OK)))
    expect(o.ciphers.split(':').sort()).toEqual([
      'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305',
      'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305',
      'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
    ])
    expect([o.minVersion, o.maxVersion, o.dropped]).toEqual(['TLSv1.2', 'TLSv1.3', []])
  })

  it('a kernel without ChaCha20-Poly1305 (e.g. built without it): ChaCha left out of both versions, with the errno', () => {
    const o = ok(kernelOffer(probe({ ...ALL_OK, 'tls12-54': EINVAL, 'tls13-54': EINVAL })))
    expect(o.ciphers).not.toMatch(/CHACHA/)
    expect(o.ciphers.split(':')).toHaveLength(6)
    expect(o.dropped).toEqual(['TLS_CHACHA20_POLY1305_SHA256: EINVAL', 'ECDHE-ECDSA-CHACHA20-POLY1305: EINVAL', 'ECDHE-RSA-CHACHA20-POLY1305: EINVAL'])
  })

  it('no TLS 1.3 suite accepted (a pre-5.1 kernel): TLS 1.2 only, and the version range says so', () => {
    const o = ok(kernelOffer(probe({ 'tls12-51': 0, 'tls12-52': EINVAL, 'tls12-54': EINVAL, 'tls13-51': EINVAL, 'tls13-52': EINVAL, 'tls13-54': EINVAL })))
    expect(o.ciphers).toBe('ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256')
    expect([o.minVersion, o.maxVersion]).toEqual(['TLSv1.2', 'TLSv1.2'])
  })

  it('no TLS 1.2 suite accepted: TLS 1.3 only', () => {
    const o = ok(kernelOffer(probe({ 'tls13-51': 0, 'tls13-52': 0 })))
    expect(o.ciphers).toBe('TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384')
    expect([o.minVersion, o.maxVersion]).toEqual(['TLSv1.3', 'TLSv1.3'])
    // Missing entries are not a yes.
    expect(o.dropped).toContain('TLS_CHACHA20_POLY1305_SHA256: not probed')
  })

  it('only the versions the caller offers are considered', () => {
    expect(ok(kernelOffer(probe(ALL_OK), 'TLSv1.3', 'TLSv1.3')).ciphers).toBe('TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256')
    expect(ok(kernelOffer(probe(ALL_OK), 'TLSv1.2', 'TLSv1.2')).ciphers.split(':')).toHaveLength(6)
    // TLS 1.3 wanted, but the kernel only does TLS 1.2: nothing to offer.
    const none = kernelOffer(probe({ 'tls12-51': 0, 'tls13-51': ENOPROTOOPT }), 'TLSv1.3', 'TLSv1.3')
    expect(none).toEqual({ none: 'the kernel accepts none of the AEAD suites for TLSv1.3 (TLS_AES_128_GCM_SHA256: ENOPROTOOPT, TLS_AES_256_GCM_SHA384: not probed, TLS_CHACHA20_POLY1305_SHA256: not probed)' })
  })

  it('no tls ULP in the probe: no kernel offer, with the ULP reason', () => {
    expect(kernelOffer(probe({}, ENOENT))).toEqual({ none: 'probe: ENOENT: the kernel has no tls ULP; try modprobe tls' })
  })

  it('offeredRange follows tls.connect defaults (1.2 to 1.3) and never goes below 1.2', () => {
    expect(offeredRange({})).toEqual(['TLSv1.2', 'TLSv1.3'])
    expect(offeredRange({ minVersion: 'TLSv1' })).toEqual(['TLSv1.2', 'TLSv1.3'])
    expect(offeredRange({ minVersion: 'TLSv1.3' })).toEqual(['TLSv1.3', 'TLSv1.3'])
    expect(offeredRange({ maxVersion: 'TLSv1.2' })).toEqual(['TLSv1.2', 'TLSv1.2'])
  })
})

/** The ClientHello node:tls sends for these options. */
async function clientHelloFor(o: Extract<KernelOffer, { ciphers: string }>): Promise<OfferedHello> {
  let t: tls.TLSSocket | undefined
  const got = await captureClientHello((port) => {
    t = tls.connect({ host: '127.0.0.1', port, ciphers: o.ciphers, minVersion: o.minVersion, maxVersion: o.maxVersion })
    t.on('error', () => {})
  })
  t?.destroy()
  return got
}

describe('the offer on the wire (node:tls ClientHello)', () => {
  it('all accepted: exactly the nine AEAD code points, versions 1.3 and 1.2', async () => {
    const got = await clientHelloFor(ok(kernelOffer(probe(ALL_OK))))
    expect(got.suites).toEqual([0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xc02f, 0xc030, 0xcca8, 0xcca9])
    expect(got.versions).toEqual([0x0303, 0x0304])
  })

  it('TLS 1.3 refused by the kernel: no TLS 1.3 suite and no TLS 1.3 in supported_versions', async () => {
    const got = await clientHelloFor(ok(kernelOffer(probe({ 'tls12-52': 0, 'tls13-51': EINVAL, 'tls13-52': EINVAL, 'tls13-54': EINVAL }))))
    expect(got.suites).toEqual([0xc02c, 0xc030])
    expect(got.versions).not.toContain(0x0304)
  })

  it('TLS 1.2 refused: TLS 1.3 AES-256-GCM alone, only TLS 1.3 in supported_versions', async () => {
    const got = await clientHelloFor(ok(kernelOffer(probe({ 'tls13-52': 0, 'tls12-51': EINVAL }))))
    expect(got.suites).toEqual([0x1302])
    expect(got.versions).toEqual([0x0304])
  })
})

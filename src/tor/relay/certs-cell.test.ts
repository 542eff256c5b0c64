import { describe, expect, it } from 'vitest'
import { RngStream } from '../../net/sim/rng.js'
import { toHex } from '../../wire/bytes.js'
import { ChanCmd } from '../../wire/tor/cell.js'
import { decodeChanMsg, encodeChanMsg, type CertEntry } from '../../wire/tor/chan-msg.js'
import { CertKeyType, CertType, decodeEd25519Cert, decodeRsaEd25519CrossCert } from '../../wire/tor/ed25519-cert.js'
import { checkRelayCerts } from '../channel/certs-check.js'
import { ChannelError } from '../errors.js'
import { CROSSCERT_LIFETIME_MS, LINK_CERT_LIFETIME_MS, SIGNING_CERT_LIFETIME_MS, relayCerts } from './certs-cell.js'
import { generateRelayKeys } from './keys.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const NOW = Date.UTC(2026, 5, 1, 12, 30)

const seeded = (seed: number) => {
  const s = new RngStream(seed, 'relay/certs')
  return (n: number) => s.bytes(n)
}

const keys = generateRelayKeys(seeded(1), 'alpha', NOW)
const otherRelay = generateRelayKeys(seeded(2), 'beta', NOW)
const good = relayCerts(keys, NOW)

const TYPES = [CertType.RSA_ID_X509, CertType.IDENTITY_V_SIGNING, CertType.SIGNING_V_TLS_CERT, CertType.RSA_ID_V_ED25519]
const LIFETIME: Record<number, number> = {
  [CertType.RSA_ID_X509]: 365 * DAY,
  [CertType.IDENTITY_V_SIGNING]: SIGNING_CERT_LIFETIME_MS,
  [CertType.SIGNING_V_TLS_CERT]: LINK_CERT_LIFETIME_MS,
  [CertType.RSA_ID_V_ED25519]: CROSSCERT_LIFETIME_MS,
}

const bodyOf = (certs: CertEntry[], t: number) => certs.find((c) => c.certType === t)!.body
const replace = (certs: CertEntry[], t: number, body: Uint8Array) => certs.map((c) => (c.certType === t ? { certType: t, body } : c))

function expectCertsError(fn: () => unknown, detail: RegExp): void {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(ChannelError)
  expect((err as ChannelError).code).toBe('certs')
  expect((err as ChannelError).message).toMatch(detail)
}

describe('relayCerts', () => {
  it('passes the initiator checklist and proves the relay’s two identities', () => {
    const id = checkRelayCerts(good, keys.tls.certDer, NOW)
    expect(toHex(id.rsaId)).toBe(toHex(keys.rsaId))
    expect(toHex(id.ed25519Id)).toBe(toHex(keys.ed25519Identity.public))
    // and the same when the client knew whom it was dialling
    expect(() => checkRelayCerts(good, keys.tls.certDer, NOW, { rsaId: keys.rsaId, ed25519Id: keys.ed25519Identity.public })).not.toThrow()
  })

  it('holds exactly types 2, 4, 5, 7, and survives a CERTS cell encode/decode', () => {
    expect(good.map((c) => c.certType)).toEqual(TYPES)
    const wire = encodeChanMsg({ cmd: 'CERTS', certs: good })
    const back = decodeChanMsg(ChanCmd.CERTS, wire)
    if (back.cmd !== 'CERTS') throw new Error('not CERTS')
    expect(() => checkRelayCerts(back.certs, keys.tls.certDer, NOW)).not.toThrow()
  })

  it('type 5 certifies the TLS certificate digest with key type 03; type 4 carries the signed-with key', () => {
    const t4 = decodeEd25519Cert(bodyOf(good, CertType.IDENTITY_V_SIGNING))
    expect(t4.certKeyType).toBe(CertKeyType.ED25519)
    expect(toHex(t4.certifiedKey)).toBe(toHex(keys.ed25519Signing.public))
    const t5 = decodeEd25519Cert(bodyOf(good, CertType.SIGNING_V_TLS_CERT))
    expect(t5.certKeyType).toBe(CertKeyType.SHA256_OF_X509)
    expect(t5.extensions).toEqual([])
    expect(t5.expirationHours).toBe(Math.ceil((NOW + 2 * DAY) / HOUR))
    const t7 = decodeRsaEd25519CrossCert(bodyOf(good, CertType.RSA_ID_V_ED25519))
    expect(t7.signature.length).toBe(128) // one RSA-1024 block
  })

  it('works from the simulated epoch (keys and certificates made at time 0)', () => {
    const k = generateRelayKeys(seeded(3), 'early', 0)
    expect(toHex(checkRelayCerts(relayCerts(k, 0), k.tls.certDer, 0).rsaId)).toBe(toHex(k.rsaId))
    expect(toHex(checkRelayCerts(relayCerts(k, 5 * DAY), k.tls.certDer, 5 * DAY).rsaId)).toBe(toHex(k.rsaId))
  })

  it('is deterministic: identical seeded streams give byte-identical certificates', () => {
    const again = generateRelayKeys(seeded(1), 'alpha', NOW)
    expect(relayCerts(again, NOW).map((c) => toHex(c.body))).toEqual(good.map((c) => toHex(c.body)))
    expect(toHex(again.tls.certDer)).toBe(toHex(keys.tls.certDer))
    expect(relayCerts(otherRelay, NOW).map((c) => toHex(c.body))).not.toEqual(good.map((c) => toHex(c.body)))
  })

  for (const t of TYPES) {
    describe(`type ${t}`, () => {
      it('a corrupted signature byte is refused', () => {
        const body = bodyOf(good, t).slice()
        body[body.length - 1] ^= 0x01 // every one of these formats ends with its signature
        expectCertsError(() => checkRelayCerts(replace(good, t, body), keys.tls.certDer, NOW), new RegExp(`type ${t}`))
      })

      it('the same type taken from another relay is refused', () => {
        expectCertsError(() => checkRelayCerts(replace(good, t, bodyOf(relayCerts(otherRelay, NOW), t)), keys.tls.certDer, NOW), /./)
      })

      it('a certificate past its expiry is refused while the others are in date', () => {
        // Made early enough that only this one has run out by NOW.
        const made = NOW - LIFETIME[t] - 2 * HOUR
        const stale =
          t === CertType.RSA_ID_X509 ? generateRelayKeys(seeded(1), 'alpha', made).rsaIdentityCertDer : bodyOf(relayCerts(keys, made), t)
        const mixed = replace(good, t, stale)
        expectCertsError(() => checkRelayCerts(mixed, keys.tls.certDer, NOW), new RegExp(`type ${t}.*(expired|not valid now)`))
      })
    })
  }

  it('a TLS certificate other than the certified one is refused', () => {
    expectCertsError(() => checkRelayCerts(good, otherRelay.tls.certDer, NOW), /type 5 does not certify the TLS certificate/)
  })

  it('the whole set expires with its shortest-lived certificate (type 5, two days)', () => {
    expect(() => checkRelayCerts(good, keys.tls.certDer, NOW + LINK_CERT_LIFETIME_MS - HOUR)).not.toThrow()
    expectCertsError(() => checkRelayCerts(good, keys.tls.certDer, NOW + LINK_CERT_LIFETIME_MS + HOUR), /type 5: expired/)
    // a fresh CERTS cell from the same keys is good again
    const later = NOW + 10 * DAY
    expect(() => checkRelayCerts(relayCerts(keys, later), keys.tls.certDer, later)).not.toThrow()
  })

  it('refuses a time that is not one', () => {
    expect(() => relayCerts(keys, Number.NaN)).toThrow(RangeError)
  })
})

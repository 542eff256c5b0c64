import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { fromHex, toHex } from '../../wire/bytes.js'
import { ChanCmd } from '../../wire/tor/cell.js'
import { decodeChanMsg } from '../../wire/tor/chan-msg.js'
import { CertType, decodeEd25519Cert, decodeRsaEd25519CrossCert } from '../../wire/tor/ed25519-cert.js'
import { CERTS_BODY } from '../../wire/tor/vectors.test-data.js'
import { checkEd25519Cert, checkRsaEd25519CrossCert, rsaKeyBits, rsaKeyOfX509 } from './cert-signatures.js'

// The relay CERTS cell from a chutney network, arti crates/tor-cell/tests/testvec_chanmsg.rs.
const msg = decodeChanMsg(ChanCmd.CERTS, fromHex(CERTS_BODY))
if (msg.cmd !== 'CERTS') throw new Error('vector is not a CERTS cell')
const body = (t: number) => msg.certs.find((c) => c.certType === t)!.body

// 2020-09 (hour 0x6C000): before every expiration in the cell (0x6C98A, 0x6CC2A, 0x6DA3A hours).
const NOW = 0x6c000 * 3_600_000
const LATER = 0x6cc2b * 3_600_000 // just past the type-4 certificate's expiration hour

describe('Tor certificate signatures on a real CERTS cell', () => {
  const idCert = decodeEd25519Cert(body(CertType.IDENTITY_V_SIGNING))
  const tlsCert = decodeEd25519Cert(body(CertType.SIGNING_V_TLS_CERT))
  const cross = decodeRsaEd25519CrossCert(body(CertType.RSA_ID_V_ED25519))
  const rsa = rsaKeyOfX509(body(CertType.RSA_ID_X509))

  it('type 4 is self-certified by the embedded identity key; type 5 by the type-4 signing key', () => {
    expect(checkEd25519Cert(idCert, NOW)).toEqual({ ok: true })
    expect(checkEd25519Cert(tlsCert, NOW, idCert.certifiedKey)).toEqual({ ok: true })
    expect(checkEd25519Cert(tlsCert, NOW, idCert.extensions[0].extData).ok).toBe(false)
    expect(checkEd25519Cert(tlsCert, NOW)).toEqual({ ok: false, reason: 'no signing key given and none embedded' })
  })

  it('type 5 certifies the SHA-256 of the link certificate sent as type 1', () => {
    expect(toHex(tlsCert.certifiedKey)).toBe(createHash('sha256').update(body(CertType.LINK_X509)).digest('hex'))
  })

  it('type 7 binds the Ed25519 identity to the 1024-bit RSA key of type 2', () => {
    expect(rsaKeyBits(rsa)).toBe(1024)
    expect(toHex(cross.ed25519Key)).toBe(toHex(idCert.extensions[0].extData))
    expect(checkRsaEd25519CrossCert(cross, rsa, NOW)).toEqual({ ok: true })
    const forged = { ...cross, signed: cross.signed.slice() }
    forged.signed[0] ^= 1
    expect(checkRsaEd25519CrossCert(forged, rsa, NOW).ok).toBe(false)
  })

  it('refuses expired certificates', () => {
    expect(checkEd25519Cert(idCert, LATER)).toEqual({ ok: false, reason: 'expired' })
  })
})

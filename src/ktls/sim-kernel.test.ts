// The simulated kernel against a real `openssl s_server -www`: node:tls does the handshake over the
// record-exact pump, then ONLY the crypto_info bytes we would hand to setsockopt drive the record
// layer — our GET must be accepted by OpenSSL and every record after the handshake must decrypt.

import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ContentType, TLS_1_3_VERSION, TLS_RX, TLS_TX } from './constants.js'
import { encodeCryptoInfo } from './crypto-info.js'
import { handshakeOverPump, type PumpedHandshake } from './pump.js'
import { SimKernelError, SimKtlsSocket, type ReceivedRecord } from './sim-kernel.js'
import { makeLabPki, startSServer, type LabPki } from './testkit/peers.js'
import { kernelCryptoInfo, tls12KeyBlock, tls13DirectionKeys } from './traffic-keys.js'

let pki: LabPki
beforeAll(() => {
  pki = makeLabPki()
})

/** The crypto_info bytes for TX and RX, exactly what would go to setsockopt. rxSeqDelta breaks RX on purpose. */
function cryptoInfoBytes(h: PumpedHandshake, rxSeqDelta = 0n): { tx: Uint8Array; rx: Uint8Array } {
  const suite = h.suite!
  if (suite.version === TLS_1_3_VERSION) {
    const s = h.secrets.tls13()!
    // rx_seq = application-key records OpenSSL already consumed: 0 with the pump (notes §3).
    return {
      tx: encodeCryptoInfo(kernelCryptoInfo(suite, tls13DirectionKeys(suite, s.client), 0n)),
      rx: encodeCryptoInfo(kernelCryptoInfo(suite, tls13DirectionKeys(suite, s.server), 0n + rxSeqDelta)),
    }
  }
  const s = h.secrets.tls12()!
  const kb = tls12KeyBlock(suite, s.masterSecret, s.clientRandom, h.serverRandom!)
  // TLS 1.2: each side's Finished was record 0 under the new keys, so both continue at 1.
  return { tx: encodeCryptoInfo(kernelCryptoInfo(suite, kb.client, 1n)), rx: encodeCryptoInfo(kernelCryptoInfo(suite, kb.server, 1n + rxSeqDelta)) }
}

interface Session {
  h: PumpedHandshake
  raw: net.Socket
  sim: SimKtlsSocket
  /** Resolves once some bytes after the handover are in the sim's receive queue. */
  arrived: Promise<void>
}

/** recvmsg() until an alert record (close_notify) arrives; the sim's errors reject. */
function readUntilAlert(s: Session): Promise<ReceivedRecord[]> {
  const records: ReceivedRecord[] = []
  return new Promise((resolve, reject) => {
    const drain = () => {
      try {
        for (let r = s.sim.recvmsg(); r; r = s.sim.recvmsg()) {
          records.push(r)
          if (r.recordType === ContentType.alert) return resolve(records)
        }
      } catch (e) {
        reject(e)
      }
    }
    s.raw.on('data', drain)
    s.raw.once('close', () => reject(new Error(`connection closed after ${records.length} record(s) without an alert`)))
    drain()
  })
}

async function handOver(port: number, tlsOpts: { minVersion: 'TLSv1.2' | 'TLSv1.3'; maxVersion: 'TLSv1.2' | 'TLSv1.3' }, rxSeqDelta = 0n): Promise<Session> {
  const raw = net.connect(port, '127.0.0.1')
  await new Promise<void>((r, j) => raw.once('connect', r).once('error', j))
  const h = await handshakeOverPump(raw, { ...tlsOpts, host: '127.0.0.1', ca: pki.caPem })
  const bytes = cryptoInfoBytes(h, rxSeqDelta)
  h.secrets.wipe()
  h.detach()
  const sim = new SimKtlsSocket()
  sim.setCryptoInfo(TLS_TX, bytes.tx)
  sim.setCryptoInfo(TLS_RX, bytes.rx)
  sim.receive(h.heldBack)
  raw.on('data', (d: Buffer) => sim.receive(d))
  const arrived = h.heldBack.length ? Promise.resolve() : new Promise<void>((r) => raw.once('data', () => r()))
  h.resumeRaw()
  raw.write(sim.send(new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n')))
  return { h, raw, sim, arrived }
}

const cases = [
  { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', server: ['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'] },
  { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', server: ['-tls1_3', '-ciphersuites', 'TLS_AES_256_GCM_SHA384'] },
  { protocol: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256', server: ['-tls1_3', '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256'] },
  { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', server: ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256'] },
  { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384', server: ['-tls1_2', '-cipher', 'ECDHE-RSA-AES256-GCM-SHA384'] },
  { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-CHACHA20-POLY1305', server: ['-tls1_2', '-cipher', 'ECDHE-RSA-CHACHA20-POLY1305'] },
] as const

describe('simulated kernel vs openssl s_server', () => {
  const peers: Array<{ stop(): void }> = []
  afterAll(() => peers.forEach((p) => p.stop()))

  for (const c of cases) {
    it(`${c.protocol} ${c.cipher}: sends GET and decrypts every record after the handover`, async () => {
      const peer = await startSServer(pki, [...c.server])
      peers.push(peer)
      const session = await handOver(peer.port, { minVersion: c.protocol, maxVersion: c.protocol })
      const { h, raw } = session
      expect(h.cipherName).toBe(c.cipher)
      expect(h.recordsAfterHandshake).toBe(0)
      const records = await readUntilAlert(session)
      raw.destroy()
      h.tls.destroy()

      const types = records.map((r) => r.recordType)
      if (c.protocol === 'TLSv1.3') {
        // OpenSSL's two NewSessionTickets (handshake msg_type 4) come first, as control records.
        expect(types.slice(0, 2)).toEqual([ContentType.handshake, ContentType.handshake])
        expect(records.slice(0, 2).map((r) => r.data[0])).toEqual([4, 4])
      }
      expect(types.at(-1)).toBe(ContentType.alert)
      expect([...records.at(-1)!.data]).toEqual([1, 0]) // warning close_notify
      const body = Buffer.concat(records.filter((r) => r.recordType === ContentType.applicationData).map((r) => r.data)).toString('latin1')
      expect(body.startsWith('HTTP/1.0 200 ok')).toBe(true)
      expect(body).toContain(`${c.protocol}, Cipher is ${c.cipher}`)
    })
  }

  it('detects a wrong RX rec_seq with EBADMSG, and a control record read without cmsg with EIO', async () => {
    const peer = await startSServer(pki, ['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'])
    peers.push(peer)
    const bad = await handOver(peer.port, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }, 1n)
    await expect(readUntilAlert(bad)).rejects.toMatchObject({ errno: 'EBADMSG' })
    bad.raw.destroy()
    bad.h.tls.destroy()

    const good = await handOver(peer.port, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' })
    await good.arrived
    expect(() => good.sim.recv()).toThrow(expect.objectContaining({ errno: 'EIO' }) as SimKernelError)
    // The record stays queued; recvmsg with a cmsg buffer then reads it as a ticket.
    expect(good.sim.recvmsg()?.recordType).toBe(ContentType.handshake)
    good.raw.destroy()
    good.h.tls.destroy()
  })

  it('refuses a malformed struct (EINVAL) and a second TLS_TX (EBUSY, no rekey)', () => {
    const sim = new SimKtlsSocket()
    expect(() => sim.setCryptoInfo(TLS_TX, new Uint8Array(39))).toThrow(expect.objectContaining({ errno: 'EINVAL' }) as SimKernelError)
    const ok = encodeCryptoInfo({ version: TLS_1_3_VERSION, cipherType: 51, iv: new Uint8Array(8), key: new Uint8Array(16), salt: new Uint8Array(4), recSeq: new Uint8Array(8) })
    sim.setCryptoInfo(TLS_TX, ok)
    expect(() => sim.setCryptoInfo(TLS_TX, ok)).toThrow(expect.objectContaining({ errno: 'EBUSY' }) as SimKernelError)
  })
})

// The channel against real tor 0.4.9 relays of the lab's private network: link handshake, the
// CERTS checklist on a real CERTS cell (and on mutated copies of it), identity pinning, expiry at
// the World's clock.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectTls } from '../../tls/connect.js'
import { liveWorld } from '../../net/live/world.js'
import type { World } from '../../net/world.js'
import { CellReader, ChanCmd, encodeCell } from '../../wire/tor/cell.js'
import { chanMsgCell, decodeChanMsg, type CertEntry } from '../../wire/tor/chan-msg.js'
import type { Testnet } from '../../../lab/tor-testnet/testnet.js'
import { ChannelError } from '../errors.js'
import { checkRelayCerts } from './certs-check.js'
import { Channel } from './channel.js'
import { relayByNick, relayTarget, startSharedTestnet } from '../testnet-fixture.test-util.js'

let net: Testnet
let cleanup: (() => Promise<void>) | undefined
const world = liveWorld()

beforeAll(async () => {
  ;({ net, cleanup } = await startSharedTestnet())
}, 150_000)
afterAll(async () => {
  await cleanup?.()
}, 30_000)

/** Our own VERSIONS exchange up to the relay's CERTS cell, to feed the checklist directly. */
async function fetchCerts(port: number): Promise<{ certs: CertEntry[]; tlsCertDer: Uint8Array }> {
  const conn = await world.net.connect('127.0.0.1', port)
  const tls = await connectTls(world, conn, { rejectUnauthorized: false })
  const tlsCertDer = new Uint8Array(tls.getPeerCertificate(true).raw)
  const reader = new CellReader()
  tls.write(encodeCell(chanMsgCell(0, { cmd: 'VERSIONS', versions: [4, 5] }), 2))
  return await new Promise((resolve, reject) => {
    tls.on('error', reject)
    const take = (events: ReturnType<CellReader['receive']>) => {
      for (const ev of events) {
        if (ev.kind === 'error') return reject(ev.error)
        if (ev.cell.command === ChanCmd.VERSIONS) {
          take(reader.setLinkVersion(5))
          return
        }
        if (ev.cell.command === ChanCmd.CERTS) {
          const msg = decodeChanMsg(ev.cell.command, ev.cell.body)
          tls.destroy()
          if (msg.cmd === 'CERTS') resolve({ certs: msg.certs, tlsCertDer })
          return
        }
      }
    }
    tls.on('data', (d: Buffer) => take(reader.receive(new Uint8Array(d))))
  })
}

const expectChannelError = (fn: () => unknown, code: string) => {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(ChannelError)
    expect((e as ChannelError).code).toBe(code)
    return
  }
  throw new Error('expected a ChannelError')
}

describe('Channel against tor 0.4.9', () => {
  it('opens to every relay with link protocol 5 and proves the pinned identities', async () => {
    for (const nick of ['a0', 'r0', 'e1', 'br0']) {
      const r = relayByNick(net, nick)
      const t = relayTarget(r)
      const ch = await Channel.open(world, t)
      expect(ch.linkVersion).toBe(5)
      expect(Buffer.from(ch.peer.rsaId).toString('hex').toUpperCase()).toBe(r.fingerprint)
      expect(Buffer.from(ch.peer.ed25519Id).toString('base64').replace(/=+$/, '')).toBe(r.ed25519)
      expect(Math.abs(ch.clockSkewMs)).toBeLessThan(5_000)
      ch.close()
    }
  })

  it('refuses a relay whose RSA or Ed25519 identity is not the pinned one', async () => {
    const t = relayTarget(relayByNick(net, 'r1'))
    const other = relayTarget(relayByNick(net, 'r0'))
    await expect(Channel.open(world, { ...t, rsaId: other.rsaId })).rejects.toMatchObject({ name: 'ChannelError', code: 'identity' })
    await expect(Channel.open(world, { ...t, ed25519Id: other.ed25519Id })).rejects.toMatchObject({ name: 'ChannelError', code: 'identity' })
  })

  it('checks expiry at the World clock: ten years on, the same relay fails the checklist', async () => {
    const later: World = { ...world, now: () => Date.now() + 10 * 365 * 86_400_000 }
    await expect(Channel.open(later, relayTarget(relayByNick(net, 'r1')))).rejects.toMatchObject({ name: 'ChannelError', code: 'certs' })
  })

  it('refuses a port that does not speak Tor with a typed error', async () => {
    await expect(Channel.open(world, { host: '127.0.0.1', port: relayByNick(net, 'a0').dirPort! }, { handshakeTimeoutMs: 5000 })).rejects.toMatchObject({ name: 'ChannelError', code: 'timeout' })
  })

  it('the CERTS checklist: a real cell passes; each broken rule fails with certs', async () => {
    const e1 = relayByNick(net, 'e1')
    const { certs, tlsCertDer } = await fetchCerts(e1.orPort)
    expect(certs.map((c) => c.certType).sort()).toEqual([1, 2, 4, 5, 7])
    const now = Date.now()
    const ok = checkRelayCerts(certs, tlsCertDer, now)
    expect(Buffer.from(ok.rsaId).toString('hex').toUpperCase()).toBe(e1.fingerprint)

    const without = (t: number) => certs.filter((c) => c.certType !== t)
    const flip = (t: number, at: (len: number) => number) =>
      certs.map((c) => {
        if (c.certType !== t) return c
        const body = c.body.slice()
        body[at(body.length)] ^= 0x01
        return { certType: t, body }
      })
    for (const t of [2, 4, 5, 7]) expectChannelError(() => checkRelayCerts(without(t), tlsCertDer, now), 'certs')
    expectChannelError(() => checkRelayCerts([...certs, certs.find((c) => c.certType === 2)!], tlsCertDer, now), 'certs')
    // Another TLS certificate than the one presented: type 5 no longer binds it.
    const otherTls = tlsCertDer.slice()
    otherTls[otherTls.length - 1] ^= 1
    expectChannelError(() => checkRelayCerts(certs, otherTls, now), 'certs')
    // Signatures: last byte of each Ed25519 signature, of the cross-cert's RSA signature, of the X.509 signature.
    for (const t of [2, 4, 5, 7]) expectChannelError(() => checkRelayCerts(flip(t, (n) => n - 1), tlsCertDer, now), 'certs')
    // Certified keys: type 4's signing key (byte 8), type 7's Ed25519 key (byte 0).
    expectChannelError(() => checkRelayCerts(flip(4, () => 8), tlsCertDer, now), 'certs')
    expectChannelError(() => checkRelayCerts(flip(7, () => 0), tlsCertDer, now), 'certs')
    // Types swapped between entries.
    const swapped = certs.map((c) => (c.certType === 4 ? { certType: 5, body: c.body } : c.certType === 5 ? { certType: 4, body: c.body } : c))
    expectChannelError(() => checkRelayCerts(swapped, tlsCertDer, now), 'certs')
  })
})

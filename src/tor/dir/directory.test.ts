// The directory against the lab network's real authorities: consensus signatures counted against
// key certificates, microdescriptors joined by digest, the disk cache reused while valid, and a
// consensus altered by one byte or signed by too few of the configured authorities refused.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveWorld } from '../../net/live/world.js'
import type { Testnet } from '../../../lab/tor-testnet/testnet.js'
import { Channel } from '../channel/channel.js'
import { Circuit } from '../circuit/circuit.js'
import { TorStream } from '../stream/stream.js'
import { relayByNick, relayTarget, startSharedTestnet } from '../testnet-fixture.test-util.js'
import { parseDirAuthority, type DirAuthority } from './dir-authority.js'
import { Directory, DirectoryError, dirPortSource } from './directory.js'
import { parseConsensus } from './consensus.js'
import { parseAuthorityCerts } from './authority-cert.js'
import { checkConsensusSignatures } from './consensus-signatures.js'
import { policyAllowsPort } from './microdesc.js'

let net: Testnet
let cleanup: (() => Promise<void>) | undefined
let authorities: DirAuthority[]
const world = liveWorld()
const cache = mkdtempSync(join(tmpdir(), 'sultry-dircache-'))

beforeAll(async () => {
  ;({ net, cleanup } = await startSharedTestnet())
  authorities = net.authorities.map(parseDirAuthority)
}, 150_000)
afterAll(async () => {
  await cleanup?.()
  rmSync(cache, { recursive: true, force: true })
}, 30_000)

describe('Directory against tor 0.4.9 authorities', () => {
  it('parses the DirAuthority lines the launcher wrote', () => {
    expect(authorities).toHaveLength(3)
    const a0 = relayByNick(net, 'a0')
    expect(authorities[0]).toMatchObject({ nickname: 'a0', address: '127.0.0.1', dirPort: a0.dirPort, orPort: a0.orPort, flags: ['no-v2'] })
    expect(Buffer.from(authorities[0].fingerprint).toString('hex').toUpperCase()).toBe(a0.fingerprint)
    expect(Buffer.from(authorities[0].v3ident).toString('hex').toUpperCase()).toBe(a0.v3ident)
  })

  it('bootstraps over DirPort: all 7 relays, verified, with keys matching the relays’ own files', async () => {
    const phases: string[] = []
    const dir = new Directory(world, { authorities, cacheDir: cache, progress: (p, ph) => phases.push(`${p} ${ph}`) })
    const nd = await dir.fetch(dirPortSource(world, authorities))
    expect(nd.from).toBe('network')
    expect(nd.relays).toHaveLength(7)
    for (const r of nd.relays) {
      const lab = relayByNick(net, r.nickname)
      expect(Buffer.from(r.rsaId).toString('hex').toUpperCase()).toBe(lab.fingerprint)
      expect(Buffer.from(r.md.ntorOnionKey).toString('base64').replace(/=+$/, '')).toBe(lab.ntorOnionKey)
      expect(Buffer.from(r.md.ed25519Id!).toString('base64').replace(/=+$/, '')).toBe(lab.ed25519)
      expect(r.orPort).toBe(lab.orPort)
    }
    const exits = nd.relays.filter((r) => r.flags.has('Exit') && policyAllowsPort(r.md.policy, 80)).map((r) => r.nickname)
    expect(exits.sort()).toEqual(['e0', 'e1'])
    expect(phases.length).toBeGreaterThanOrEqual(3)

    // The cache is reused while valid.
    const again = new Directory(world, { authorities, cacheDir: cache }).loadCache()
    expect(again?.from).toBe('cache')
    expect(again?.relays).toHaveLength(7)
  })

  it('refuses a consensus changed by one byte, and one signed by too few configured authorities', () => {
    const text = readFileSync(join(cache, 'consensus-microdesc'), 'latin1')
    const certs = parseAuthorityCerts(readFileSync(join(cache, 'authority-certs'), 'latin1'))
    const c = parseConsensus(text)
    const now = c.validAfter
    expect(checkConsensusSignatures(c, authorities, certs, now)).toMatchObject({ ok: true, required: 2 })
    expect(checkConsensusSignatures(c, authorities, certs, now).validFrom).toHaveLength(3)
    const altered = parseConsensus(text.replace('w Bandwidth=1000', 'w Bandwidth=9000'))
    expect(checkConsensusSignatures(altered, authorities, certs, now)).toMatchObject({ ok: false })
    // Four more configured authorities that never sign: 3 valid of 7 is not more than half.
    const fake = (i: number): DirAuthority => ({ ...authorities[0], v3ident: new Uint8Array(20).fill(i) })
    expect(checkConsensusSignatures(c, [...authorities, fake(1), fake(2), fake(3), fake(4)], certs, now)).toMatchObject({ ok: false, required: 4 })
    // Expired certificates do not count. (The authorities' certificates were made a second or so apart,
    // so their expiries differ: past the latest one, none counts; past only the earliest, two still do.)
    const expiries = certs.map((k) => k.expires).sort((a, b) => a - b)
    expect(checkConsensusSignatures(c, authorities, certs, expiries[expiries.length - 1] + 1).ok).toBe(false)
    if (expiries[0] < expiries[1]) expect(checkConsensusSignatures(c, authorities, certs, expiries[0] + 1)).toMatchObject({ ok: true })
    // A damaged cache is not used.
    writeFileSync(join(cache, 'consensus-microdesc'), text.replace('w Bandwidth=1000', 'w Bandwidth=9000'), 'latin1')
    expect(new Directory(world, { authorities, cacheDir: cache }).loadCache()).toBeUndefined()
    writeFileSync(join(cache, 'consensus-microdesc'), text, 'latin1')
  })

  it('fetches the same directory over BEGIN_DIR on a one-hop circuit', async () => {
    const r1 = relayTarget(relayByNick(net, 'r1'))
    const ch = await Channel.open(world, r1)
    const circ = await Circuit.build(world, ch, [r1])
    const dir = new Directory(world, { authorities })
    const nd = await dir.fetch(() => TorStream.open(world, circ, 'dir'))
    expect(nd.relays).toHaveLength(7)
    circ.destroy()
    ch.close()
  })

  it('a consensus from the wrong network fails verification', async () => {
    const other = authorities.map((a) => ({ ...a, v3ident: a.fingerprint })) // relay ids are not v3 idents
    await expect(new Directory(world, { authorities: other }).fetch(dirPortSource(world, authorities))).rejects.toSatisfy(
      (e: unknown) => e instanceof DirectoryError || (e as Error).name === 'DirFetchError',
    )
  })
})

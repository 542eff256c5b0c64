// Directory.refresh in the simulated network, against directory documents our sim authorities sign:
// nothing newer → undefined after one request; a newer consensus → only the microdescriptors not
// held yet; a rotated signing key → the certificates fetched again; a consensus the authorities did
// not sign → refused with the directory in use untouched; the disk cache holds the refreshed one.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SimNetwork } from '../../net/sim/network.js'
import { generateRsaPrivateKey } from '../../crypto/rsa-keygen.js'
import { buildDirectoryDocs, dirAuthorityLine, generateAuthorityKeys, serveDirPort, SIM_AUTHORITY_KEY_BITS, type AuthorityKeys, type DirRelayEntry, type DirectoryDocs } from '../relay/dir-docs.js'
import { parseDirAuthority } from './dir-authority.js'
import { Directory, DirectoryError, dirPortSource, type NetDir } from './directory.js'

const HOUR = 3_600_000
/** The consensus lists relays by identity digest; the test speaks of them by name. */
const names = (d: NetDir) => d.relays.map((r) => r.nickname).sort()
const cache = mkdtempSync(join(tmpdir(), 'sultry-dir-refresh-'))
afterAll(() => rmSync(cache, { recursive: true, force: true }))

function relay(i: number, random: (n: number) => Uint8Array): DirRelayEntry {
  return {
    nickname: `r${i}`,
    address: `10.0.2.${i + 1}`,
    orPort: 9001,
    rsaId: random(20),
    ed25519Id: random(32),
    ntorOnionKey: random(32),
    flags: ['Fast', 'Running', 'Stable', 'Valid', 'V2Dir', ...(i < 2 ? ['Guard'] : []), ...(i >= 4 ? ['Exit'] : [])],
    bandwidth: 1000,
    exitPorts: i >= 4 ? 'accept 1-65535' : undefined,
  }
}

describe('Directory.refresh', () => {
  it('asks only for what changed, refetches certificates after a key rotation, refuses what the authorities did not sign', async () => {
    const net = new SimNetwork(5)
    const client = net.addHost('client', '10.0.0.1')
    const authHost = net.addHost('auth0', '10.0.1.1')
    net.link('client', 'auth0')
    const rnd = net.rng.stream('test:dir-refresh')
    const random = (n: number) => rnd.bytes(n)
    const auths: AuthorityKeys[] = ['auth0', 'auth1', 'auth2'].map((n, i) => generateAuthorityKeys(random, n, `10.0.1.${i + 1}`, 7000, 9001))
    const relays = Array.from({ length: 7 }, (_, i) => relay(i, random))
    let docs: DirectoryDocs = buildDirectoryDocs(auths, relays.slice(0, 6), { validAfterMs: 0 })
    const requests: number[] = []
    // Every authority line points at the one host that answers: the source tries them in turn.
    await serveDirPort(authHost.world, 7000, () => (requests.push(net.sched.now()), docs))
    const authorities = auths.map((a) => parseDirAuthority(dirAuthorityLine({ ...a, address: '10.0.1.1' })))
    const dir = new Directory(client.world, { authorities, cacheDir: cache })
    const source = dirPortSource(client.world, authorities)
    const sleep = (ms: number) => new Promise<void>((r) => client.world.setTimer(ms, r))

    const steps = (async () => {
      const first = await dir.fetch(source)
      expect(names(first)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5'])
      expect(first.newMicrodescs).toBe(6)

      // The same consensus again: one request, nothing installed.
      requests.length = 0
      expect(await dir.refresh(source)).toBeUndefined()
      expect(requests).toHaveLength(1)

      // An hour on: r5 left, r6 joined. The consensus and one microdescriptor batch (r6's only).
      await sleep(HOUR)
      docs = buildDirectoryDocs(auths, [...relays.slice(0, 5), relays[6]], { validAfterMs: HOUR })
      requests.length = 0
      const second = (await dir.refresh(source)) as NetDir
      expect(second.consensus.validAfter).toBe(HOUR)
      expect(names(second)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r6'])
      expect(second.newMicrodescs).toBe(1)
      expect(requests).toHaveLength(2)

      // The authorities rotate their signing keys: the known certificates no longer verify, so they
      // are fetched again (consensus, certificates; no microdescriptor is new).
      await sleep(HOUR)
      const rotated = auths.map((a) => ({ ...a, signing: generateRsaPrivateKey(random, SIM_AUTHORITY_KEY_BITS) }))
      docs = buildDirectoryDocs(rotated, [...relays.slice(0, 5), relays[6]], { validAfterMs: 2 * HOUR })
      requests.length = 0
      const third = (await dir.refresh(source)) as NetDir
      expect(third.consensus.validAfter).toBe(2 * HOUR)
      expect(third.newMicrodescs).toBe(0)
      expect(requests).toHaveLength(2)

      // Signed by authorities nobody configured: refused, and the next good one still installs.
      await sleep(HOUR)
      const strangers = ['x0', 'x1', 'x2'].map((n, i) => generateAuthorityKeys(random, n, `10.0.9.${i + 1}`, 7000, 9001))
      const good = buildDirectoryDocs(rotated, relays, { validAfterMs: 3 * HOUR })
      // The cache still serves our authorities' certificates, which cannot verify this consensus.
      docs = { ...buildDirectoryDocs(strangers, relays, { validAfterMs: 3 * HOUR }), authorityCerts: good.authorityCerts }
      await expect(dir.refresh(source)).rejects.toThrow(DirectoryError)
      docs = good
      const fourth = (await dir.refresh(source)) as NetDir
      expect(fourth.relays).toHaveLength(7)
      expect(fourth.newMicrodescs).toBe(1)

      // The disk cache holds the refreshed directory, every microdescriptor included.
      const reloaded = new Directory(client.world, { authorities, cacheDir: cache }).loadCache()
      expect(reloaded?.consensus.validAfter).toBe(3 * HOUR)
      expect(reloaded?.relays).toHaveLength(7)
    })()
    steps.catch(() => {})
    await net.run({ until: steps, maxVirtualMs: 5 * HOUR })
    await steps
  }, 60_000)
})

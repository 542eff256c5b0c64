// The sim's directory documents read back through the client's own parsers (src/tor/dir), which
// also accept real tor 0.4.9 documents: key certificates verify, the consensus is signed by
// whichever majority of authorities is configured and refused below it or when one byte changes,
// microdescriptors match the m lines; then a Directory bootstraps from them, first through an
// in-memory DirSource, then over a DirPort in the simulated network.

import { Duplex } from 'node:stream'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { SimNetwork } from '../../net/sim/network.js'
import { Rng } from '../../net/sim/rng.js'
import { quietLink } from '../../net/sim/test-helpers.js'
import type { Timer, World } from '../../net/world.js'
import { WireError, concatBytes, toHex } from '../../wire/bytes.js'
import { parseResponseHead } from '../../wire/http/response-head.js'
import { parseAuthorityCerts } from '../dir/authority-cert.js'
import { parseConsensus } from '../dir/consensus.js'
import { checkConsensusSignatures } from '../dir/consensus-signatures.js'
import { parseDirAuthority, type DirAuthority } from '../dir/dir-authority.js'
import { Directory, DirectoryError, dirPortSource, type DirSource } from '../dir/directory.js'
import { parseMicrodescs, policyAllowsPort } from '../dir/microdesc.js'
import { sha1, sha256 } from '../dir/rsa.js'
import { missingRequiredProtocols } from '../protocols.js'
import {
  authorityCertificate,
  buildDirectoryDocs,
  dirAuthorityLine,
  generateAuthorityKeys,
  serveDirPort,
  serveDirectoryRequest,
  type AuthorityKeys,
  type DirRelayEntry,
  type DirectoryDocs,
} from './dir-docs.js'

const AUTH_ADDRS = ['10.0.0.1', '10.0.0.2', '10.0.0.3']
const DIRPORT = 80

function authorities(seed: number): AuthorityKeys[] {
  const rng = new Rng(seed).stream('authorities')
  return AUTH_ADDRS.map((addr, i) => generateAuthorityKeys((n) => rng.bytes(n), `auth${i}`, addr, DIRPORT, 443))
}

function relays(seed: number, n = 6): DirRelayEntry[] {
  const rng = new Rng(seed).stream('relays')
  return Array.from({ length: n }, (_, i) => {
    const exit = i % 3 === 2
    return {
      nickname: `relay${i}`,
      address: `10.0.1.${i + 1}`,
      orPort: 9001,
      rsaId: rng.bytes(20),
      ed25519Id: rng.bytes(32),
      ntorOnionKey: rng.bytes(32),
      flags: ['Fast', 'Guard', 'Running', 'Stable', 'Valid', 'V2Dir', ...(exit ? ['Exit'] : [])],
      bandwidth: 1000 + i,
      ...(exit ? { exitPorts: 'accept 80,443' } : {}),
      ...(i === 0 ? { family: ['$' + 'AB'.repeat(20)] } : {}),
    }
  })
}

/** The signature block of the authority whose v3ident is `hex`, removed. */
function dropSignature(consensus: string, hex: string): string {
  const re = new RegExp(`directory-signature sha256 ${hex} [0-9A-F]{40}\\n-----BEGIN SIGNATURE-----\\n[^-]*-----END SIGNATURE-----\\n`)
  expect(re.test(consensus)).toBe(true)
  return consensus.replace(re, '')
}

const hex = (b: Uint8Array) => toHex(b).toUpperCase()

let auths: AuthorityKeys[]
let dirAuths: DirAuthority[]
let rel: DirRelayEntry[]
let docs: DirectoryDocs
const T0 = 0 // the sim clock starts at 0 ms

beforeAll(() => {
  auths = authorities(7)
  dirAuths = auths.map((a) => parseDirAuthority(dirAuthorityLine(a)))
  rel = relays(7)
  docs = buildDirectoryDocs(auths, rel, { validAfterMs: T0, params: { circwindow: 1000, cbtdisabled: 1 } })
})

describe('authority keys and DirAuthority lines', () => {
  it('are a function of the random stream, and v3ident is SHA-1 of the identity key DER', () => {
    const again = authorities(7)
    expect(again.map(dirAuthorityLine)).toEqual(auths.map(dirAuthorityLine))
    expect(authorities(8).map(dirAuthorityLine)).not.toEqual(auths.map(dirAuthorityLine))
    expect(auths[0].identity.asymmetricKeyDetails?.modulusLength).toBe(1024)
    const der = createPublicKey(auths[0].identity).export({ type: 'pkcs1', format: 'der' })
    expect(hex(dirAuths[0].v3ident)).toBe(hex(sha1(der)))
    expect(hex(dirAuths[0].fingerprint)).toBe(hex(dirAuths[0].v3ident))
    const a = dirAuths[0]
    expect(a).toMatchObject({ nickname: 'auth0', address: '10.0.0.1', dirPort: DIRPORT, orPort: 443, flags: ['no-v2'] })
  })
})

describe('authority key certificates', () => {
  it('parse and verify, one per authority, fingerprints equal to the configured v3idents', () => {
    const certs = parseAuthorityCerts(docs.authorityCerts)
    expect(certs).toHaveLength(3)
    for (const [i, c] of certs.entries()) {
      expect(c.signaturesValid).toBe(true)
      expect(hex(c.fingerprint)).toBe(hex(dirAuths[i].v3ident))
      expect(c.published).toBe(T0)
      expect(c.expires).toBeGreaterThan(T0 + 300 * 24 * 3_600_000)
    }
  })

  it('a certificate altered after signing fails its certification', () => {
    const cert = authorityCertificate(auths[0], 0, 86_400_000)
    const altered = cert.replace('dir-key-expires 1970-01-02 00:00:00', 'dir-key-expires 1970-01-03 00:00:00')
    expect(altered).not.toBe(cert)
    expect(parseAuthorityCerts(cert)[0].signaturesValid).toBe(true)
    expect(parseAuthorityCerts(altered)[0].signaturesValid).toBe(false)
  })

  it('works with keys from anywhere (node keygen), not only the seeded generator', () => {
    const k = () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
    const a: AuthorityKeys = { nickname: 'other', address: '10.9.9.9', dirPort: 80, orPort: 443, identity: k(), signing: k() }
    const d = buildDirectoryDocs([a], rel.slice(0, 1), { validAfterMs: T0 })
    const c = parseConsensus(d.consensus)
    const tally = checkConsensusSignatures(c, [parseDirAuthority(dirAuthorityLine(a))], parseAuthorityCerts(d.authorityCerts), T0)
    expect(tally.ok).toBe(true)
  })
})

describe('the consensus', () => {
  it('parses: lifetime, flags, params, weights, one entry per relay', () => {
    const c = parseConsensus(docs.consensus)
    expect(c.validAfter).toBe(T0)
    expect(c.freshUntil).toBe(T0 + 3_600_000)
    expect(c.validUntil).toBe(T0 + 3 * 3_600_000)
    expect(c.knownFlags).toEqual([...c.knownFlags].sort())
    expect(c.knownFlags).toEqual(expect.arrayContaining(['Exit', 'Fast', 'Guard', 'Running', 'Stable', 'V2Dir', 'Valid']))
    expect(Object.fromEntries(c.params)).toEqual({ circwindow: 1000, cbtdisabled: 1 })
    expect(c.bandwidthWeights.size).toBe(19)
    expect(c.relays).toHaveLength(rel.length)
    for (const r of rel) {
      const e = c.relays.find((x) => x.nickname === r.nickname)!
      expect(hex(e.rsaId)).toBe(hex(r.rsaId))
      expect(e.address).toBe(r.address)
      expect(e.orPort).toBe(r.orPort)
      expect(e.dirPort).toBe(0)
      expect([...e.flags].sort()).toEqual([...r.flags].sort())
      expect(e.bandwidth).toBe(r.bandwidth)
      expect(e.unmeasured).toBe(false)
      expect(e.protocols.get('Relay')?.has(2)).toBe(true)
    }
  })

  it('lists relays by RSA identity and signatures by v3ident, ascending (dir-spec)', () => {
    const c = parseConsensus(docs.consensus)
    const ids = c.relays.map((r) => toHex(r.rsaId))
    expect(ids).toEqual([...ids].sort())
    const sigIds = c.signatures.map((s) => toHex(s.identity))
    expect(sigIds).toEqual([...sigIds].sort())
    expect(c.signatures.every((s) => s.algorithm === 'sha256')).toBe(true)
  })

  it('requires only client protocols our client speaks', () => {
    const c = parseConsensus(docs.consensus)
    expect(c.requiredClientProtocols.size).toBeGreaterThan(0)
    expect(missingRequiredProtocols(c.requiredClientProtocols)).toEqual([])
  })

  it('signatures cover SHA-256 of the text through "directory-signature "', () => {
    const c = parseConsensus(docs.consensus)
    const cut = docs.consensus.indexOf('\ndirectory-signature ') + '\ndirectory-signature '.length
    expect(hex(c.signedDigest.sha256)).toBe(hex(sha256(docs.consensus.slice(0, cut))))
  })

  it('is verified with 3 of 3 and with 2 of 3 signatures, refused with 1 of 3', () => {
    const certs = parseAuthorityCerts(docs.authorityCerts)
    const full = checkConsensusSignatures(parseConsensus(docs.consensus), dirAuths, certs, T0)
    expect(full).toMatchObject({ ok: true, required: 2 })
    expect(full.validFrom).toHaveLength(3)
    const [first, second] = dirAuths.map((a) => hex(a.v3ident)).sort()
    const two = dropSignature(docs.consensus, first)
    expect(checkConsensusSignatures(parseConsensus(two), dirAuths, certs, T0)).toMatchObject({ ok: true })
    const one = dropSignature(two, second)
    const t1 = checkConsensusSignatures(parseConsensus(one), dirAuths, certs, T0)
    expect(t1.ok).toBe(false)
    expect(t1.validFrom).toHaveLength(1)
  })

  it('is refused when one byte of the signed text changes', () => {
    const certs = parseAuthorityCerts(docs.authorityCerts)
    const at = docs.consensus.indexOf('w Bandwidth=1000') + 'w Bandwidth='.length
    const altered = docs.consensus.slice(0, at) + '2' + docs.consensus.slice(at + 1)
    expect(altered.length).toBe(docs.consensus.length)
    const t = checkConsensusSignatures(parseConsensus(altered), dirAuths, certs, T0)
    expect(t.ok).toBe(false)
    expect(t.validFrom).toEqual([])
  })

  it('is refused by a client configured with other authorities, and once the certificates expire', () => {
    const others = authorities(99).map((a) => parseDirAuthority(dirAuthorityLine(a)))
    const certs = parseAuthorityCerts(docs.authorityCerts)
    expect(checkConsensusSignatures(parseConsensus(docs.consensus), others, certs, T0).ok).toBe(false)
    const late = certs[0].expires
    expect(checkConsensusSignatures(parseConsensus(docs.consensus), dirAuths, certs, late).ok).toBe(false)
  })

  it('is the same text for the same inputs (deterministic signing)', () => {
    const again = buildDirectoryDocs(auths, rel, { validAfterMs: T0, params: { cbtdisabled: 1, circwindow: 1000 } })
    expect(again.consensus).toBe(docs.consensus)
    expect(again.authorityCerts).toBe(docs.authorityCerts)
    expect(sha1(again.consensus)).toEqual(sha1(docs.consensus))
  })

  it('refuses inputs that would make a document its readers reject', () => {
    const build = (r: Partial<DirRelayEntry>) => () => buildDirectoryDocs(auths, [{ ...rel[0], ...r }], { validAfterMs: T0 })
    expect(build({ nickname: 'has space' })).toThrow(WireError)
    expect(build({ nickname: 'x'.repeat(20) })).toThrow(WireError)
    expect(build({ address: '10.0.0.256' })).toThrow(WireError)
    expect(build({ rsaId: new Uint8Array(19) })).toThrow(WireError)
    expect(build({ ntorOnionKey: new Uint8Array(31) })).toThrow(WireError)
    expect(build({ flags: ['Not a flag'] })).toThrow(WireError)
    expect(build({ exitPorts: 'allow 80' })).toThrow(WireError)
    expect(build({ family: ['a\nb'] })).toThrow(WireError)
    expect(() => buildDirectoryDocs(auths, [rel[0], { ...rel[1], rsaId: rel[0].rsaId }], { validAfterMs: T0 })).toThrow(WireError)
    expect(() => buildDirectoryDocs([], rel, { validAfterMs: T0 })).toThrow(WireError)
    expect(() => buildDirectoryDocs(auths, rel, { validAfterMs: T0, params: { 'bad key': 1 } })).toThrow(WireError)
    expect(() => buildDirectoryDocs(auths, rel, { validAfterMs: T0, params: { big: 2 ** 31 } })).toThrow(WireError)
  })
})

describe('microdescriptors', () => {
  it('parse, with digests equal to the consensus m lines and the relays’ keys', () => {
    const c = parseConsensus(docs.consensus)
    const mds = parseMicrodescs([...docs.microdescs.values()].join(''))
    expect(mds).toHaveLength(rel.length)
    expect(new Set(mds.map((m) => m.digest))).toEqual(new Set(c.relays.map((r) => r.microdescDigest)))
    for (const m of mds) expect(docs.microdescs.get(m.digest)).toBeDefined()
    for (const r of rel) {
      const entry = c.relays.find((x) => x.nickname === r.nickname)!
      const md = mds.find((m) => m.digest === entry.microdescDigest)!
      expect(hex(md.ntorOnionKey)).toBe(hex(r.ntorOnionKey))
      expect(hex(md.ed25519Id!)).toBe(hex(r.ed25519Id))
      expect(md.family).toEqual(r.family ?? [])
      expect(policyAllowsPort(md.policy, 443)).toBe(r.exitPorts !== undefined)
      expect(policyAllowsPort(md.policy, 22)).toBe(false)
    }
  })
})

describe('serveDirectoryRequest', () => {
  const fps = () => dirAuths.map((a) => hex(a.v3ident))

  it('serves the certificates asked for by fingerprint, and 404 for none known', () => {
    const [a, b] = fps()
    const r = serveDirectoryRequest(docs, `/tor/keys/fp/${b}+${a.toLowerCase()}`)
    expect(r.status).toBe(200)
    expect(parseAuthorityCerts(r.body).map((c) => hex(c.fingerprint))).toEqual([b, a])
    expect(serveDirectoryRequest(docs, `/tor/keys/fp/${'00'.repeat(20)}`).status).toBe(404)
    expect(serveDirectoryRequest(docs, '/tor/keys/fp/zz').status).toBe(400)
    expect(parseAuthorityCerts(serveDirectoryRequest(docs, '/tor/keys/all').body)).toHaveLength(3)
  })

  it('serves the consensus, and the fingerprint form only when a majority of those named signed', () => {
    expect(serveDirectoryRequest(docs, '/tor/status-vote/current/consensus-microdesc')).toEqual({ status: 200, body: docs.consensus })
    const [a, b] = fps()
    const stranger = 'EE'.repeat(20)
    expect(serveDirectoryRequest(docs, `/tor/status-vote/current/consensus-microdesc/${a.slice(0, 6)}+${b.slice(0, 6)}`).status).toBe(200)
    expect(serveDirectoryRequest(docs, `/tor/status-vote/current/consensus-microdesc/${a}+${stranger}`).status).toBe(404)
  })

  it('serves the microdescriptors it holds, in the order asked, and 404 for none', () => {
    const digests = [...docs.microdescs.keys()]
    const r = serveDirectoryRequest(docs, `/tor/micro/d/${digests[2]}-${'A'.repeat(43)}-${digests[0]}`)
    expect(r.status).toBe(200)
    expect(parseMicrodescs(r.body).map((m) => m.digest)).toEqual([digests[2], digests[0]])
    expect(serveDirectoryRequest(docs, `/tor/micro/d/${'A'.repeat(43)}`).status).toBe(404)
    expect(serveDirectoryRequest(docs, '/tor/status-vote/current/consensus').status).toBe(404)
    expect(serveDirectoryRequest(docs, '/').status).toBe(404)
  })
})

/** A World for code that only reads the clock: fixed time, timers that never fire. */
function stillWorld(now: number): World {
  const never: Timer = { cancel() {} }
  return {
    now: () => now,
    setTimer: () => never,
    random: () => {
      throw new Error('no randomness here')
    },
    net: {
      connect: () => Promise.reject(new Error('no network here')),
      listen: () => Promise.reject(new Error('no network here')),
    },
    trace: () => {},
  }
}

/** A DirSource whose every stream answers one GET from serveDirectoryRequest (no network). */
function memorySource(d: DirectoryDocs, log: string[]): DirSource {
  return async () => {
    let req = ''
    const s: Duplex = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        req += chunk.toString('latin1')
        const end = req.indexOf('\r\n\r\n')
        if (end >= 0) {
          const path = req.split(' ')[1]
          log.push(path)
          const r = serveDirectoryRequest(d, path)
          s.push(Buffer.from(`HTTP/1.0 ${r.status} X\r\nContent-Length: ${r.body.length}\r\n\r\n${r.body}`, 'latin1'))
          s.push(null)
        }
        cb()
      },
    })
    return s
  }
}

describe('a Directory bootstrapping from these documents', () => {
  it('gets every relay through a DirSource answered by serveDirectoryRequest', async () => {
    const log: string[] = []
    const nd = await new Directory(stillWorld(T0), { authorities: dirAuths }).fetch(memorySource(docs, log))
    expect(nd.from).toBe('network')
    expect(nd.relays.map((r) => r.nickname).sort()).toEqual(rel.map((r) => r.nickname).sort())
    for (const r of nd.relays) expect(r.md.digest).toBe(r.microdescDigest)
    expect(log[0]).toBe(`/tor/keys/fp/${dirAuths.map((a) => hex(a.v3ident)).join('+')}`)
    expect(log[1]).toBe('/tor/status-vote/current/consensus-microdesc')
    expect(log[2].startsWith('/tor/micro/d/')).toBe(true)
  })

  it('refuses the consensus when only one authority signed it', async () => {
    const [first, second] = dirAuths.map((a) => hex(a.v3ident)).sort()
    const weak = { ...docs, consensus: dropSignature(dropSignature(docs.consensus, first), second) }
    await expect(new Directory(stillWorld(T0), { authorities: dirAuths }).fetch(memorySource(weak, []))).rejects.toThrow(DirectoryError)
  })

  it('refuses it once its valid-until (and the tolerance) has passed', async () => {
    const late = T0 + 3 * 3_600_000 + 24 * 3_600_000 + 1
    await expect(new Directory(stillWorld(late), { authorities: dirAuths }).fetch(memorySource(docs, []))).rejects.toThrow(DirectoryError)
  })
})

describe('serveDirPort in the simulated network', () => {
  function simNet(seed: number) {
    const net = new SimNetwork({ seed, policy: 'queue' })
    const authHosts = AUTH_ADDRS.map((addr, i) => net.addHost(`auth${i}`, addr))
    const client = net.addHost('client', '10.0.2.1')
    for (const h of authHosts) net.link('client', h.name, { ab: quietLink, ba: quietLink })
    return { net, authHosts, client }
  }

  it('a client Directory bootstraps from the authorities’ DirPorts', async () => {
    const { net, authHosts, client } = simNet(3)
    expect(net.sched.now()).toBe(T0)
    const served: number[] = authHosts.map(() => 0)
    await Promise.all(
      authHosts.map((h, i) =>
        serveDirPort(h.world, DIRPORT, () => {
          served[i]++
          return docs
        }),
      ),
    )
    const fetched = new Directory(client.world, { authorities: dirAuths }).fetch(dirPortSource(client.world, dirAuths))
    fetched.catch(() => {})
    await net.run({ until: fetched, maxVirtualMs: 60_000 })
    const nd = await fetched
    expect(nd.relays.map((r) => r.nickname).sort()).toEqual(rel.map((r) => r.nickname).sort())
    // dirPortSource rotates through the authorities: three requests, one to each.
    expect(served).toEqual([1, 1, 1])
  })

  it('answers with Content-Length and Connection: close, then closes; bad requests get 400/405', async () => {
    const { net, authHosts, client } = simNet(4)
    await serveDirPort(authHosts[0].world, DIRPORT, () => docs)
    const ask = async (request: string) => {
      const conn = await client.world.net.connect(AUTH_ADDRS[0], DIRPORT)
      const chunks: Uint8Array[] = []
      conn.on('data', (d: Buffer) => chunks.push(new Uint8Array(d)))
      const ended = new Promise<void>((r) => conn.on('end', r))
      conn.write(request)
      await ended
      const all = concatBytes(...chunks)
      const { head, used } = parseResponseHead(all)
      return { head, body: Buffer.from(all.subarray(used)).toString('latin1') }
    }
    const run = async <T>(p: Promise<T>) => {
      p.catch(() => {})
      await net.run({ until: p, maxVirtualMs: 60_000 })
      return p
    }
    const ok = await run(ask('GET /tor/keys/all HTTP/1.0\r\n\r\n'))
    expect(ok.head.status).toBe(200)
    expect(ok.head.get('content-length')).toBe(String(docs.authorityCerts.length))
    expect(ok.head.get('connection')).toBe('close')
    expect(ok.body).toBe(docs.authorityCerts)
    expect((await run(ask('GET /nothing HTTP/1.0\r\n\r\n'))).head.status).toBe(404)
    expect((await run(ask('POST /tor/keys/all HTTP/1.0\r\nContent-Length: 0\r\n\r\n'))).head.status).toBe(405)
    expect((await run(ask('GET /tor/keys/all\r\n\r\n'))).head.status).toBe(400)
    expect((await run(ask(`GET /${'a'.repeat(20_000)} HTTP/1.0\r\n\r\n`))).head.status).toBe(400)
  })

  it('closes a connection that never finishes its request', async () => {
    const { net, authHosts, client } = simNet(5)
    await serveDirPort(authHosts[0].world, DIRPORT, () => docs)
    const closed = (async () => {
      const conn = await client.world.net.connect(AUTH_ADDRS[0], DIRPORT)
      conn.on('error', () => {})
      conn.resume()
      conn.write('GET /tor/keys/all HTTP/1.0\r\n')
      // The server's FIN; the sim's connections are half-open like allowHalfOpen sockets.
      await new Promise<void>((r) => conn.on('end', () => r()))
      return client.world.now()
    })()
    closed.catch(() => {})
    await net.run({ until: closed, maxVirtualMs: 120_000 })
    expect(await closed).toBeGreaterThanOrEqual(30_000)
  })
})

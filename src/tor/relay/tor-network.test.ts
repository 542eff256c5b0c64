// The whole client (TorClient: directory bootstrap, guards, path selection, streams) against a
// small Tor network made of our own parts inside the simulator: one directory authority serving
// the sim's signed consensus on its DirPort, six OnionRouters (two of them exits, every one a
// directory cache), and a web host. Bootstrap over the DirPort and then over a bridge (CREATE_FAST
// + BEGIN_DIR to one of our routers), then a page and a RESOLVE through a 3-hop circuit.

import { beforeAll, describe, expect, it } from 'vitest'
import { Rng } from '../../net/sim/rng.js'
import { SimNetwork } from '../../net/sim/network.js'
import type { Conn } from '../../net/world.js'
import { toHex } from '../../wire/bytes.js'
import { ResolvedType } from '../../wire/tor/relay-msg.js'
import { TorClient } from '../client.js'
import type { TorStream } from '../stream/stream.js'
import { buildDirectoryDocs, dirAuthorityLine, generateAuthorityKeys, serveDirPort, serveDirectoryRequest, type AuthorityKeys, type DirectoryDocs } from './dir-docs.js'
import { generateRelayKeys, type RelayKeys } from './keys.js'
import { OnionRouter } from './onion-router.js'

const N_RELAYS = 6
const isExit = (i: number) => i >= 4
const relayAddress = (i: number) => `10.0.1.${i + 1}`
const WEB = '10.0.2.1'

let auth: AuthorityKeys
let relayKeys: RelayKeys[]
let docs: DirectoryDocs

beforeAll(() => {
  const rng = new Rng(99)
  const a = rng.stream('authority')
  auth = generateAuthorityKeys((n) => a.bytes(n), 'auth0', '10.0.0.10', 80, 9001)
  relayKeys = Array.from({ length: N_RELAYS }, (_, i) => {
    const s = rng.stream(`relay${i}`)
    return generateRelayKeys((n) => s.bytes(n), `relay${i}`, 0)
  })
  docs = buildDirectoryDocs(
    [auth],
    relayKeys.map((k, i) => ({
      nickname: k.nickname,
      address: relayAddress(i),
      orPort: 9001,
      rsaId: k.rsaId,
      ed25519Id: k.ed25519Identity.public,
      ntorOnionKey: k.ntor.public,
      flags: ['Fast', 'Guard', 'Running', 'Stable', 'Valid', 'V2Dir', ...(isExit(i) ? ['Exit'] : [])],
      bandwidth: 1000,
      ...(isExit(i) ? { exitPorts: 'accept 80,443' } : {}),
    })),
    { validAfterMs: 0 },
  )
}, 120_000)

/**
 * Stand-in for a relay's own server descriptor (a bridge serves it at /tor/server/authority): only
 * the items our client reads from it, unsigned; the sim's directory documents have none yet.
 */
function ownDescriptor(i: number): string {
  const k = relayKeys[i]
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/=+$/, '')
  return `router ${k.nickname} ${relayAddress(i)} 9001 0 0\nmaster-key-ed25519 ${b64(k.ed25519Identity.public)}\nntor-onion-key ${Buffer.from(k.ntor.public).toString('base64')}\n`
}

function serveHello(conn: Conn): void {
  conn.on('error', () => {})
  let head = ''
  conn.on('data', (d: Buffer) => {
    head += d.toString('latin1')
    if (!head.includes('\r\n\r\n')) return
    const body = 'hello from the sim web\n'
    conn.end(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
  })
}

async function network(seed: number) {
  const net = new SimNetwork({ seed, policy: 'queue' })
  const client = net.addHost('client', '10.0.0.1')
  const authHost = net.addHost('auth0', auth.address)
  const web = net.addHost('web', WEB)
  await serveDirPort(authHost.world, auth.dirPort, () => docs)
  await web.world.net.listen(80, serveHello)
  const routers: OnionRouter[] = []
  for (let i = 0; i < N_RELAYS; i++) {
    const h = net.addHost(`relay${i}`, relayAddress(i))
    routers.push(
      await OnionRouter.start(h.world, {
        keys: relayKeys[i],
        orPort: 9001,
        address: relayAddress(i),
        dirRequest: (path) => (path === '/tor/server/authority' ? { status: 200, body: ownDescriptor(i) } : serveDirectoryRequest(docs, path)),
        ...(isExit(i) ? { exit: { policy: (_h: string, port: number) => port === 80 || port === 443, resolve: (h: string) => (h === 'web' ? WEB : undefined) } } : {}),
      }),
    )
  }
  return { net, client: client.world, routers }
}

async function fetchHello(s: TorStream): Promise<string> {
  s.write('GET / HTTP/1.0\r\n\r\n')
  const parts: Buffer[] = []
  for await (const c of s) parts.push(c as Buffer)
  const text = Buffer.concat(parts).toString('latin1')
  return text.slice(text.indexOf('\r\n\r\n') + 4)
}

describe('TorClient through a network of OnionRouters in the sim', () => {
  it('bootstraps from the DirPort, fetches a page and resolves a name through 3 hops', async () => {
    const t = await network(3)
    const p = (async () => {
      const tor = await TorClient.create(t.client, { authorities: [dirAuthorityLine(auth)], testingNetwork: true })
      const page = await fetchHello(await tor.connect('web', 80))
      const answers = await tor.resolve('web')
      await tor.close()
      return { page, answers, relays: tor.netdir.relays.length }
    })()
    p.catch(() => {})
    await t.net.run({ until: p, maxVirtualMs: 300_000 })
    const got = await p
    expect(got.relays).toBe(N_RELAYS)
    expect(got.page).toBe('hello from the sim web\n')
    expect(got.answers[0]).toMatchObject({ type: ResolvedType.IPV4 })
    expect([...got.answers[0].value].join('.')).toBe(WEB)
    const exitStreams = t.routers.filter((_, i) => isExit(i)).reduce((n, r) => n + r.stats.streamsOpened, 0)
    expect(exitStreams).toBe(1)
  }, 60_000)

  it('bootstraps through a bridge (CREATE_FAST + BEGIN_DIR to one of our routers)', async () => {
    const t = await network(4)
    const bridge = 1
    const p = (async () => {
      const tor = await TorClient.create(t.client, {
        authorities: [dirAuthorityLine(auth)],
        bridges: [`${relayAddress(bridge)}:9001 ${toHex(relayKeys[bridge].rsaId).toUpperCase()}`],
        testingNetwork: true,
      })
      const page = await fetchHello(await tor.connect('web', 80))
      await tor.close()
      return page
    })()
    p.catch(() => {})
    await t.net.run({ until: p, maxVirtualMs: 300_000 })
    expect(await p).toBe('hello from the sim web\n')
    // Every directory request went to the bridge as BEGIN_DIR; the authority's DirPort saw none.
    expect(t.routers[bridge].stats.streamsOpened).toBeGreaterThanOrEqual(3)
  }, 60_000)
})

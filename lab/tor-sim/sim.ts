// A whole Tor network in the simulated network (issue #4, item 8): three directory authorities
// serving a consensus signed with keys they generated, eight onion routers (two guards that are
// also directory caches, two middles, three exits, one unlisted bridge) with generated identities,
// a web server, and our TorClient. Links segment and jitter as the seed says. The client bootstraps over the authorities'
// DirPorts, fetches a page, downloads a seeded number of bytes (SENDMEs on both levels), then the
// exit of its circuit crashes and the next request must succeed on a new circuit through another
// exit. An hour in, the authorities publish the next consensus (the crashed exit gone, a third exit
// listed); the client must fetch it from its guard on dir-spec §5.1's schedule — virtual time makes
// those hours cost nothing. Last, a second user bootstraps through the bridge alone (its own
// descriptor and the directory over BEGIN_DIR, no authority asked) and fetches the page. Every key,
// choice and delay comes from the seed, so the same seed gives the same trace hash.

import { createHash } from 'node:crypto'
import { SimNetwork } from '../../src/net/sim/network.js'
import { SimError } from '../../src/net/sim/scheduler.js'
import { tapNetwork } from '../../src/net/sim/tap.js'
import type { Conn, World } from '../../src/net/world.js'
import { toHex } from '../../src/wire/bytes.js'
import { TorClient } from '../../src/tor/client.js'
import { buildDirectoryDocs, dirAuthorityLine, generateAuthorityKeys, serveDirPort, serveDirectoryRequest, serverDescriptor, type AuthorityKeys, type DirRelayEntry } from '../../src/tor/relay/dir-docs.js'
import { generateRelayKeys, type RelayKeys } from '../../src/tor/relay/keys.js'
import { OnionRouter } from '../../src/tor/relay/onion-router.js'
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.js'

const OR_PORT = 9001
const DIR_PORT = 7000
const WEB = { host: 'www.sim', address: '10.0.5.1', port: 80 }
const PAGE = 'hello from a web server inside the simulated Tor network\n'

interface RelaySpec {
  nickname: string
  address: string
  flags: string[]
  exit: boolean
}

const RELAYS: RelaySpec[] = [
  { nickname: 'guard0', address: '10.0.2.1', flags: ['Guard'], exit: false },
  { nickname: 'guard1', address: '10.0.2.2', flags: ['Guard'], exit: false },
  { nickname: 'middle0', address: '10.0.3.1', flags: [], exit: false },
  { nickname: 'middle1', address: '10.0.3.2', flags: [], exit: false },
  { nickname: 'exit0', address: '10.0.4.1', flags: ['Exit'], exit: true },
  { nickname: 'exit1', address: '10.0.4.2', flags: ['Exit'], exit: true },
  // Runs from the start but is listed only from the second consensus on (valid-after 1 h).
  { nickname: 'exit2', address: '10.0.4.3', flags: ['Exit'], exit: true },
  // Never listed: reached only through its bridge line, it serves its own descriptor and the directory.
  { nickname: 'bridge0', address: '10.0.2.9', flags: [], exit: false },
]
const LATE = new Set(['exit2'])
const BRIDGE = 'bridge0'
const HOUR = 3_600_000
const AUTHS = [
  { nickname: 'auth0', address: '10.0.1.1' },
  { nickname: 'auth1', address: '10.0.1.2' },
  { nickname: 'auth2', address: '10.0.1.3' },
]

/** A plain HTTP/1.0 server: "/" is the page, "/bytes/N" is N seeded bytes; one request per connection. */
function serveWeb(world: World, bulk: (n: number) => Uint8Array): Promise<unknown> {
  return world.net.listen(WEB.port, (conn: Conn) => {
    conn.on('error', () => {})
    let head = ''
    const onData = (d: Buffer) => {
      head += d.toString('latin1')
      if (head.length > 8192) return void conn.destroy()
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      conn.off('data', onData)
      const path = /^GET (\S+) HTTP\/1\.[01]\r\n/.exec(head)?.[1]
      const m = path ? /^\/bytes\/(\d{1,9})$/.exec(path) : null
      const body = path === '/' ? Buffer.from(PAGE) : m ? Buffer.from(bulk(Number(m[1]))) : Buffer.from('not found\n')
      const status = path === '/' || m ? '200 OK' : '404 Not Found'
      conn.write(`HTTP/1.0 ${status}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`)
      conn.end(body)
    }
    conn.on('data', onData)
  })
}

/** GET `path` on a Tor stream; resolves with the body once the exit ends the stream. */
async function get(tor: TorClient, path: string): Promise<Buffer> {
  const s = await tor.connect(WEB.host, WEB.port)
  const parts: Buffer[] = []
  const done = new Promise<Buffer>((resolve, reject) => {
    s.on('data', (d: Buffer) => parts.push(d))
    s.once('end', () => resolve(Buffer.concat(parts)))
    s.once('error', reject)
  })
  s.write(`GET ${path} HTTP/1.0\r\nHost: ${WEB.host}\r\n\r\n`)
  const all = await done
  s.destroy()
  const split = all.indexOf('\r\n\r\n')
  if (split < 0 || !all.subarray(0, 12).toString('latin1').startsWith('HTTP/1.0 200')) throw new Error(`bad response: ${all.subarray(0, 80).toString('latin1')}`)
  return all.subarray(split + 4)
}

export interface TorSimResult extends ScenarioResult {
  /** What happened, step by step, for the log. */
  steps: string[]
}

export async function runTorSim(opts: ScenarioOptions): Promise<TorSimResult> {
  const net = new SimNetwork(opts.seed)
  const steps: string[] = []
  const step = (s: string) => {
    steps.push(s)
    opts.log(`  tor-sim: ${s}`)
  }
  const client = net.addHost('client', '10.0.0.1')
  const bridgeUser = net.addHost('bridge-user', '10.0.0.2')
  const authHosts = AUTHS.map((a) => net.addHost(a.nickname, a.address))
  const relayHosts = RELAYS.map((r) => net.addHost(r.nickname, r.address))
  const web = net.addHost(WEB.host, WEB.address)
  // Every pair may talk (client to authorities and guards, relays to relays, exits to the web).
  const all = [client, bridgeUser, ...authHosts, ...relayHosts, web]
  for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) net.link(all[i].name, all[j].name)
  const tap = opts.pcap ? await tapNetwork(net, opts.pcap) : undefined

  const rng = net.rng.stream('scenario:tor-sim')
  const bulkBytes = rng.int(600_000, 2_500_000)
  net.option('bulkBytes', bulkBytes)
  const bulkRng = net.rng.stream('scenario:tor-sim:bulk')
  const bulkData = bulkRng.bytes(bulkBytes)
  const bulk = (n: number) => (n <= bulkData.length ? bulkData.subarray(0, n) : new Uint8Array(n))

  // Keys: every host generates its own from its seeded World.
  const authKeys: AuthorityKeys[] = AUTHS.map((a, i) => generateAuthorityKeys((n) => authHosts[i].world.random(n), a.nickname, a.address, DIR_PORT, OR_PORT))
  const relayKeys: RelayKeys[] = RELAYS.map((r, i) => generateRelayKeys((n) => relayHosts[i].world.random(n), r.nickname, 0))
  const entries: DirRelayEntry[] = RELAYS.map((r, i) => ({
    nickname: r.nickname,
    address: r.address,
    orPort: OR_PORT,
    rsaId: relayKeys[i].rsaId,
    ed25519Id: relayKeys[i].ed25519Identity.public,
    ntorOnionKey: relayKeys[i].ntor.public,
    flags: ['Fast', 'Running', 'Stable', 'Valid', 'V2Dir', ...r.flags],
    bandwidth: 1000,
    exitPorts: r.exit ? 'accept 1-65535' : undefined,
  }))
  const listed = entries.filter((e) => e.nickname !== BRIDGE)
  let docs = buildDirectoryDocs(authKeys, listed.filter((e) => !LATE.has(e.nickname)), { validAfterMs: 0 })
  // Who answered directory requests: the authorities' DirPorts, and the guards as caches (BEGIN_DIR).
  const served = { dirPort: 0, beginDir: 0, bridge: 0 }
  for (const h of authHosts) {
    await serveDirPort(h.world, DIR_PORT, () => {
      served.dirPort++
      return docs
    })
  }
  const routers = new Map<string, OnionRouter>()
  for (let i = 0; i < RELAYS.length; i++) {
    const r = RELAYS[i]
    const dirRequest =
      r.nickname === BRIDGE
        ? (path: string) => (served.bridge++, path === '/tor/server/authority' ? { status: 200, body: serverDescriptor(relayKeys[i], entries[i], net.sched.now()) } : serveDirectoryRequest(docs, path))
        : r.flags.includes('Guard')
          ? (path: string) => (served.beginDir++, serveDirectoryRequest(docs, path))
          : undefined
    routers.set(r.nickname, await OnionRouter.start(relayHosts[i].world, { keys: relayKeys[i], orPort: OR_PORT, address: r.address, exit: r.exit ? {} : undefined, dirRequest }))
  }
  await serveWeb(web.world, bulk)

  const outcome = (async () => {
    let refreshed: (line: string) => void = () => {}
    const tor = await TorClient.create(client.world, {
      authorities: authKeys.map(dirAuthorityLine),
      testingNetwork: true,
      progress: (pct, phase) => step(`bootstrap ${pct}% ${phase}`),
      notice: (line) => line.startsWith('directory: consensus') && refreshed(line),
    })
    const bootstrapRequests = served.dirPort
    const page = (await get(tor, '/')).toString('latin1')
    if (page !== PAGE) throw new Error(`page differs: ${JSON.stringify(page.slice(0, 60))}`)
    const first = tor.openCircuits[0]
    step(`page through ${first.path.join(' -> ')}`)
    const body = await get(tor, `/bytes/${bulkBytes}`)
    const want = createHash('sha256').update(bulk(bulkBytes)).digest('hex')
    const got = createHash('sha256').update(body).digest('hex')
    if (got !== want) throw new Error(`bulk sha256 ${got.slice(0, 16)} != ${want.slice(0, 16)} (${body.length} of ${bulkBytes} bytes)`)
    step(`${bulkBytes} bytes, sha256 ${got.slice(0, 16)}…, circuit SENDMEs received ${first.circuit.sendmesReceived}, sent ${first.circuit.sendmesSent}`)
    // Crash the exit of the circuit in use; the next request must go through another exit.
    const exitNick = first.path[2]
    await routers.get(exitNick)!.stop()
    step(`crashed ${exitNick}`)
    const again = (await get(tor, '/')).toString('latin1')
    if (again !== PAGE) throw new Error('page after the exit crash differs')
    const now = tor.openCircuits.find((c) => !c.circuit.closed)
    if (!now || now.path[2] === exitNick) throw new Error(`after the crash the request used ${now?.path.join(' -> ') ?? 'no circuit'}`)
    step(`after the crash: ${now.path.join(' -> ')}`)
    // An hour in, the authorities publish a consensus without the crashed exit and with exit2. The
    // client fetches it on dir-spec §5.1's schedule (1:45–2:52 for a 1 h / 3 h consensus) from its
    // guard, asking only for exit2's microdescriptor.
    const published = new Promise<void>((r) =>
      authHosts[0].world.setTimer(HOUR - net.sched.now(), () => {
        docs = buildDirectoryDocs(authKeys, listed.filter((e) => e.nickname !== exitNick), { validAfterMs: HOUR })
        r()
      }),
    )
    const line = await new Promise<string>((r) => (refreshed = r))
    await published
    const names = new Set(tor.netdir.relays.map((r) => r.nickname))
    if (tor.netdir.consensus.validAfter !== HOUR || names.has(exitNick) || !names.has('exit2')) throw new Error(`refreshed directory is not the new one: ${line}`)
    if (tor.netdir.newMicrodescs !== 1) throw new Error(`refresh fetched ${tor.netdir.newMicrodescs} microdescriptors, not exit2's one`)
    if (served.dirPort !== bootstrapRequests || served.beginDir === 0) throw new Error(`refresh went to ${served.dirPort - bootstrapRequests} DirPort(s), ${served.beginDir} BEGIN_DIR`)
    const refreshedAt = (net.sched.now() / 60_000).toFixed(0)
    step(`at ${(net.sched.now() / 60_000).toFixed(1)} min: ${line} (${served.beginDir} BEGIN_DIR requests to the guard, no DirPort)`)
    // The circuit in use since the crash has been dirty for over 10 minutes (MaxCircuitDirtiness):
    // the next request gets a fresh circuit, built from the new consensus, and the old one closes.
    const dirty = tor.openCircuits.find((c) => !c.circuit.closed)!
    const later = (await get(tor, '/')).toString('latin1')
    if (later !== PAGE) throw new Error('page after the directory refresh differs')
    const latest = tor.openCircuits.find((c) => !c.circuit.closed)!
    if (latest.circuit === dirty.circuit || !dirty.circuit.closed) throw new Error(`a circuit dirty for ${(net.sched.now() / 60_000).toFixed(0)} min took a new stream`)
    step(`after the refresh: a fresh circuit ${latest.path.join(' -> ')} (the one dirty since the crash is closed)`)
    step(`status: ${tor.statusLine()}`)
    await tor.close()

    // A second user reaches the network only through the unlisted bridge: its descriptor and the
    // directory come from the bridge (BEGIN_DIR), no authority is asked, every circuit starts there.
    const dirPortBefore = served.dirPort
    const b = RELAYS.findIndex((r) => r.nickname === BRIDGE)
    const bridgeLine = `${RELAYS[b].address}:${OR_PORT} ${toHex(relayKeys[b].rsaId)}`
    const viaBridge = await TorClient.create(bridgeUser.world, { authorities: authKeys.map(dirAuthorityLine), bridges: [bridgeLine], testingNetwork: true })
    const bridged = (await get(viaBridge, '/')).toString('latin1')
    if (bridged !== PAGE) throw new Error('page through the bridge differs')
    const bridgePath = viaBridge.openCircuits.find((c) => !c.circuit.closed)!.path
    if (bridgePath[0] !== BRIDGE || served.dirPort !== dirPortBefore || served.bridge === 0) {
      throw new Error(`bridge user: path ${bridgePath.join(' -> ')}, ${served.dirPort - dirPortBefore} DirPort requests, ${served.bridge} to the bridge`)
    }
    step(`bridge user: ${served.bridge} directory requests to ${BRIDGE} (its descriptor, key certificates, consensus, microdescriptors), none to an authority; page through ${bridgePath.join(' -> ')}`)
    await viaBridge.close()
    return `bootstrap, page, ${bulkBytes} bytes intact, ${exitNick} crashed → new circuit via ${now.path[2]}, new consensus at ${refreshedAt} min (exit2 joined, ${exitNick} left), bridge user via ${BRIDGE}`
  })()
  outcome.catch(() => {})
  let ok = false
  let detail: string
  try {
    await net.run({ until: outcome, maxVirtualMs: 4 * HOUR })
    detail = await outcome
    ok = true
  } catch (e) {
    detail = e instanceof SimError ? e.message : `failed: ${e instanceof Error ? e.message : String(e)}`
  }
  for (const r of routers.values()) await r.stop()
  await tap?.close()
  return { ok, detail, traceHash: net.traceHash(), options: net.options(), virtualMs: net.sched.now(), steps }
}

export const torSimScenario: Scenario = {
  name: 'tor',
  summary: 'a Tor network in the sim (3 authorities, 8 relays with generated keys): bootstrap, page, seeded bulk download, exit crash → new circuit, next consensus from the guard, a user via a bridge',
  run: (opts) => runTorSim(opts),
}

// The censored lab network the matrix runs in: a client host (browser and proxy together: the
// proxy is local, so the browser↔proxy hop is an in-memory pipe), the two origins blocked.example
// and allowed.example, and the OOB helper, reached from the client only through the censor; the
// helper reaches the origins directly (it sits outside the censor).
//
// Links take their faults from the seed (latency, jitter, bandwidth, window; server→client also
// random split/coalesce/MSS), with one exception: the client→network direction keeps an MSS of at
// least 1460 and no random splits, because a kernel sends a < 1460-byte ClientHello in one segment;
// a network that split it by chance would be performing tcp-split itself and turn "direct" into an
// evasion. What crosses the censor is then exactly what each strategy chose to send.

import type { TLSSocket } from 'node:tls'
import { labSite, labTls } from '../fixtures/index.js'
import type { Censor } from '../../src/net/sim/censor/index.js'
import type { SimHost } from '../../src/net/sim/host.js'
import { SimNetwork } from '../../src/net/sim/network.js'
import { OobClient } from '../../src/proxy/oob/client.js'
import { OobServer } from '../../src/proxy/oob/server.js'
import { policyResolver, type AddressResolver } from '../../src/proxy/resolver.js'
import { acceptTls } from '../../src/tls/accept.js'

export const ORIGINS = {
  'blocked.example': { host: 'blocked', address: '10.0.1.2' },
  'allowed.example': { host: 'allowed', address: '10.0.1.3' },
} as const
export type OriginName = keyof typeof ORIGINS

/**
 * What an origin sends after its handshake: a greeting naming it, then a body well past TSPU's
 * 16–20 KB freeze (notes §5.1), so a throttling censor is measured too, not only a blocking one.
 */
export function originResponse(name: OriginName): string {
  return `hello from ${name}\n${'x'.repeat(32 * 1024)}`
}

export const HELPER = { host: 'helper', address: '10.0.2.1', port: 443, coverSni: 'cover.example' } as const
export const CLIENT = { host: 'client', address: '10.0.0.1' } as const

/** The lab's OOB pre-shared key: test-only, public. */
export const LAB_OOB_KEY = new Uint8Array(32).fill(0x5a)

export interface MatrixLab {
  net: SimNetwork
  client: SimHost
  resolve: AddressResolver
  oob: OobClient
  helper: OobServer
}

export interface LabOptions {
  seed: number
  /** The censor on every link out of the client; none for the uncensored baseline. */
  censor?: Censor
  /** The SNI the OOB client shows the censor (default cover.example). */
  coverSni?: string
  /** Keep every trace line (for reading a failing cell). */
  keepTrace?: boolean
  /** What an origin does once its handshake is done (default: send originResponse and end). */
  serve?(tls: TLSSocket, name: OriginName, world: SimHost['world']): void
}

export async function matrixLab(o: LabOptions): Promise<MatrixLab> {
  const net = new SimNetwork({ seed: o.seed, keepTrace: o.keepTrace ?? false })
  const client = net.addHost(CLIENT.host, CLIENT.address)
  const lookup = new Map<string, string>(Object.entries(ORIGINS).map(([n, s]) => [n, s.address]))
  const helperHost = net.addHost(HELPER.host, HELPER.address)
  for (const [name, s] of Object.entries(ORIGINS)) {
    const host = net.addHost(s.host, s.address)
    const site = labSite(name as OriginName)
    await host.world.net.listen(443, (conn) => {
      conn.on('error', () => {})
      acceptTls(host.world, conn, { key: site.key, cert: site.cert, minVersion: 'TLSv1.3', handshakeTimeoutMs: 20_000 }).then(
        (tls) => {
          tls.on('error', () => {})
          if (o.serve) o.serve(tls, name as OriginName, host.world)
          else tls.end(originResponse(name as OriginName))
        },
        () => {},
      )
    })
  }
  for (const far of [...Object.values(ORIGINS).map((s) => s.host), HELPER.host]) {
    const l = net.link(CLIENT.host, far)
    const out = l.dir(CLIENT.host)
    out.options = { ...out.options, splitP: 0, mss: Math.max(out.options.mss, 1460) }
    if (o.censor) net.addMiddlebox(o.censor, CLIENT.host, far)
  }
  const cover = labSite('cover.example')
  const helper = new OobServer(helperHost.world, {
    key: LAB_OOB_KEY,
    tlsKey: cover.key,
    tlsCert: cover.cert,
    lookup: async (h) => {
      const a = lookup.get(h.toLowerCase())
      return a ? [a] : []
    },
    allowPrivate: true,
  })
  await helper.listen(HELPER.port, HELPER.address)
  const oob = new OobClient(client.world, {
    host: HELPER.address,
    port: HELPER.port,
    coverSni: o.coverSni ?? HELPER.coverSni,
    key: LAB_OOB_KEY,
    ca: labTls().caCert,
  })
  return { net, client, resolve: policyResolver({ map: lookup }), oob, helper }
}

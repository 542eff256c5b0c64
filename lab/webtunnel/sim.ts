// WebTunnel in the simulated network, with a censor from the ladder (C1–C6) on the client's link:
//   client ──censor── front "allowed.example" (outer TLS, lab CA) → webtunnel server → bridge
// The bridge is simulated: a TLS server with the lab certificate that echoes, standing in for a
// Tor ORPort's link TLS (the second TLS layer, which the censor never sees). The client runs the
// real dialWebTunnel and then an inner TLS over the raw tunnel. WebTunnel should pass every rung
// whose blocklist does not name the front's host, and be blocked when it does.

import { randomBytes } from 'node:crypto'
import * as tls from 'node:tls'
import { censorFor, type Blocklist, type Rung } from '../../src/net/sim/censor/index.js'
import { SimNetwork } from '../../src/net/sim/network.js'
import { SimError } from '../../src/net/sim/scheduler.js'
import { acceptTls } from '../../src/tls/accept.js'
import { clientConfigFromArgs } from '../../src/webtunnel/client-config.js'
import { dialWebTunnel } from '../../src/webtunnel/client.js'
import { serveWebTunnel } from '../../src/webtunnel/server.js'
import { labSite, labTls } from '../fixtures/index.js'
import type { Scenario } from '../scenario.js'

export const FRONT = { host: 'front', address: '10.0.1.3', name: 'allowed.example' } as const
export const BRIDGE = { host: 'bridge', address: '10.0.3.1', port: 9001 } as const
const SECRET = '/d2VidHVubmVs'

export interface WebTunnelSimResult {
  ok: boolean
  detail: string
  traceHash: string
  options: Record<string, unknown>
  virtualMs: number
}

export async function runWebTunnelSim(seed: number, censor?: { rung: Rung; blocklist: Blocklist }): Promise<WebTunnelSimResult> {
  const net = new SimNetwork(seed)
  const client = net.addHost('client', '10.0.0.1')
  const front = net.addHost(FRONT.host, FRONT.address)
  const bridge = net.addHost(BRIDGE.host, BRIDGE.address)
  const l = net.link('client', FRONT.host)
  // A kernel sends a small ClientHello in one segment; the censor sees what a real client sends.
  const out = l.dir('client')
  out.options = { ...out.options, splitP: 0, mss: Math.max(out.options.mss, 1460) }
  net.link(FRONT.host, BRIDGE.host)
  if (censor) net.addMiddlebox(censorFor(censor.rung, { blocklist: censor.blocklist }), 'client', FRONT.host)

  const site = labSite(FRONT.name)
  const fx = labTls()
  await front.world.net.listen(443, (conn) => {
    conn.on('error', () => {})
    acceptTls(front.world, conn, { key: site.key, cert: site.cert, handshakeTimeoutMs: 20_000 }).then(
      (outer) => {
        outer.on('error', () => {})
        void serveWebTunnel(front.world, outer, { bridge: { host: BRIDGE.address, port: BRIDGE.port }, path: SECRET })
      },
      () => {},
    )
  })
  await bridge.world.net.listen(BRIDGE.port, (conn) => {
    conn.on('error', () => {})
    acceptTls(bridge.world, conn, { key: fx.serverKey, cert: fx.serverCert }).then(
      (link) => {
        link.on('error', () => {})
        link.pipe(link)
      },
      () => {},
    )
  })

  const rng = net.rng.stream('scenario:webtunnel')
  const size = rng.int(1, 200_000)
  net.option('payloadBytes', size)
  const payload = randomBytes(size)
  const outcome = (async () => {
    const config = clientConfigFromArgs([['url', `https://${FRONT.name}${SECRET}`], ['addr', `${FRONT.address}:443`]])
    const tunnel = await dialWebTunnel(client.world, config, { ca: fx.caCert, timeoutMs: 60_000 })
    const link = tls.connect({ socket: tunnel, ca: fx.caCert, servername: fx.serverName })
    await new Promise<void>((r, j) => link.once('secureConnect', r).once('error', j))
    const echoed = new Promise<Buffer>((r, j) => {
      const parts: Buffer[] = []
      let n = 0
      link.on('data', (b: Buffer) => {
        parts.push(b)
        n += b.length
        if (n >= size) r(Buffer.concat(parts))
      })
      link.once('error', j)
    })
    link.write(payload)
    const got = await echoed
    link.destroy()
    return got
  })()
  outcome.catch(() => {})
  let ok = false
  let detail: string
  try {
    await net.run({ until: outcome, maxVirtualMs: 120_000 })
    const got = await outcome
    ok = got.equals(payload)
    detail = ok ? `${size} bytes echoed through outer TLS (${FRONT.name}), the upgrade and the inner link TLS` : `echo differs (${got.length} of ${size} bytes)`
  } catch (e) {
    detail = e instanceof SimError ? e.message : `failed: ${e instanceof Error ? e.message : String(e)}`
  }
  return { ok, detail, traceHash: net.traceHash(), options: net.options(), virtualMs: net.sched.now() }
}

/** For lab/scenarios (the lead registers it): no censor, then every rung with the front unlisted. */
export const webTunnelScenario: Scenario = {
  name: 'webtunnel',
  summary: 'WebTunnel client → nginx-like front (outer TLS) → server → simulated bridge (inner TLS echo), through C1–C6 with the front unlisted',
  async run(opts) {
    const runs = [await runWebTunnelSim(opts.seed)]
    for (const rung of ['C1', 'C2', 'C3', 'C4', 'C5', 'C6'] as const) runs.push(await runWebTunnelSim(opts.seed, { rung, blocklist: { names: ['blocked.example'] } }))
    const bad = runs.find((r) => !r.ok)
    return {
      ok: !bad,
      detail: bad ? bad.detail : `no censor and C1–C6: ${runs[0].detail}`,
      traceHash: runs.map((r) => r.traceHash).join('+'),
      options: runs[0].options,
      virtualMs: runs.reduce((a, r) => a + r.virtualMs, 0),
    }
  },
}

// Echo across a faulty link: the client sends seeded random bytes in random-size writes over a link
// that splits, coalesces, jitters and sometimes holds then releases everything at once; the server
// echoes; the client checks every byte and half-closes; the server answers EOF with EOF. Passes only
// if every byte came back intact and both ends saw EOF.

import { createHash } from 'node:crypto'
import type { Conn } from '../../src/net/world.js'
import { SimNetwork } from '../../src/net/sim/network.js'
import { SimError } from '../../src/net/sim/scheduler.js'
import { tapNetwork } from '../../src/net/sim/tap.js'
import type { Scenario, ScenarioOptions, ScenarioResult } from '../scenario.js'

export interface EchoOptions extends ScenarioOptions {
  /** Bytes the client sends (default 1 MiB). */
  bytes?: number
}

const PORT = 7

export async function runEcho(opts: EchoOptions): Promise<ScenarioResult> {
  const total = opts.bytes ?? 1 << 20
  const net = new SimNetwork(opts.seed)
  const client = net.addHost('client', '10.0.0.1')
  const server = net.addHost('server', '10.0.0.2')
  net.link('client', 'server')
  const tap = opts.pcap ? await tapNetwork(net, opts.pcap) : undefined

  const rng = net.rng.stream('scenario:echo')
  const maxWrite = rng.pick([64, 1460, 16384, 262144])
  net.option('bytes', total)
  net.option('maxWrite', maxWrite)
  // Hold/release: buffer the link for a while then deliver everything at once (turmoil's hold).
  const holds: { atMs: number; forMs: number }[] = []
  // Back to back, never overlapping: each release ends exactly the hold it belongs to.
  for (let i = rng.int(0, 3), at = 0; i > 0; i--) {
    const h = { atMs: at + rng.int(0, 1000), forMs: rng.int(1, 500) }
    holds.push(h)
    at = h.atMs + h.forMs + 1
  }
  net.option('holds', holds)
  for (const h of holds) {
    net.sched.at(h.atMs, 'hold', () => net.hold('client', 'server'))
    net.sched.at(h.atMs + h.forMs, 'release', () => net.release('client', 'server'))
  }
  const data = Buffer.from(rng.bytes(total))
  opts.log(`sending ${total} bytes in writes of 1..${maxWrite}; ${holds.length} hold(s); scheduler ${net.sched.policy}`)

  let serverSawEof = false
  let serverClosed = false
  const errors: string[] = []
  await server.world.net.listen(PORT, (conn: Conn) => {
    conn.on('data', (d: Buffer) => {
      if (!conn.write(d)) {
        conn.pause()
        conn.once('drain', () => conn.resume())
      }
    })
    conn.on('end', () => {
      serverSawEof = true
      conn.end()
    })
    conn.on('error', (e) => errors.push(`server: ${e.message}`))
    conn.on('close', () => (serverClosed = true))
  })

  const outcome = (async () => {
    const conn = await client.world.net.connect(server.address, PORT)
    let received = 0
    let mismatchAt = -1
    const digest = createHash('sha256')
    const ended = new Promise<void>((resolve, reject) => {
      conn.on('data', (d: Buffer) => {
        digest.update(d)
        if (mismatchAt < 0) {
          if (received + d.length > total || !d.equals(data.subarray(received, received + d.length))) mismatchAt = received
        }
        received += d.length
      })
      conn.on('end', resolve)
      conn.on('error', reject)
    })
    const closed = new Promise<void>((resolve) => conn.on('close', () => resolve()))
    let off = 0
    while (off < total) {
      const n = Math.min(total - off, rng.int(1, maxWrite))
      const ok = conn.write(data.subarray(off, off + n))
      off += n
      if (!ok) await new Promise<void>((r) => conn.once('drain', () => r()))
    }
    conn.end()
    await ended
    await closed
    client.world.trace('echo-received', { bytes: received, sha256: digest.digest('hex') })
    return { received, mismatchAt }
  })()

  let detail: string
  let ok = false
  try {
    await net.run({ until: outcome, maxVirtualMs: 3_600_000 })
    const { received, mismatchAt } = await outcome
    // Let both ends finish closing (the server's close follows its own FIN's delivery).
    await net.run({ until: () => serverClosed, maxVirtualMs: 3_600_000 })
    ok = mismatchAt < 0 && received === total && serverSawEof && serverClosed && errors.length === 0
    detail = ok
      ? `${total} bytes echoed intact in ${net.stats.deliveries} deliveries; both ends saw EOF`
      : `received ${received}/${total}, first mismatch at ${mismatchAt}, server EOF ${serverSawEof}, server closed ${serverClosed}${errors.length ? `, errors: ${errors.join('; ')}` : ''}`
  } catch (e) {
    detail = e instanceof SimError ? e.message : `failed: ${e instanceof Error ? e.message : String(e)}`
  }
  await tap?.close()
  if (tap) opts.log(`tapped ${tap.packets} packets to ${tap.path}`)
  return { ok, detail, traceHash: net.traceHash(), options: net.options(), virtualMs: net.sched.now() }
}

export const echo: Scenario = {
  name: 'echo',
  summary: 'client and echo server across a splitting, coalescing, jittery link with hold/release and half-close',
  run: (opts) => runEcho(opts),
}

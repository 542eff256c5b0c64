// A live censor for the netns lab: the simulator's censor rungs (src/net/sim/censor, C2–C6) on
// real TCP. It runs inside the router namespace behind
//   iptables -t nat -A PREROUTING -i <client side> -p tcp -j REDIRECT --to-ports <port>
// so every client flow lands here; the original destination comes from the router's conntrack
// table, the censor connects onwards and shows each chunk it relays to `censor.segment()`, then
// applies the verdict: pass, drop (freeze that direction), rst (reset both ends), truncate.
// Terminating TCP means the censor sees the reassembled stream, as C3+ do; it is not a model for
// the per-packet rungs (C1 is iptables itself, see c1-iptables.live.test.ts).
//   node --import tsx lab/netns/censor-process.ts --listen 10.77.1.1:9999 --rung C5 --block blocked.example --action rst

import { readFileSync } from 'node:fs'
import * as net from 'node:net'
import { performance } from 'node:perf_hooks'
import { censorFor, type Censor } from '../../src/net/sim/censor/index.js'
import type { Rung } from '../../src/net/sim/censor/censor.js'
import type { Verdict } from '../../src/net/sim/middlebox.js'
import type { FlowInfo } from '../../src/net/sim/pipe.js'

/** The original destination of a REDIRECTed flow, from the conntrack table of this namespace. */
export function originalDestination(conntrack: string, clientAddress: string, clientPort: number): { address: string; port: number } | undefined {
  for (const line of conntrack.split('\n')) {
    const field = (k: string) => line.split(' ').find((t) => t.startsWith(`${k}=`))?.slice(k.length + 1)
    if (!/ tcp /.test(line) || field('src') !== clientAddress || field('sport') !== String(clientPort)) continue
    const address = field('dst')
    const port = Number(field('dport'))
    if (address && port) return { address, port }
  }
  return undefined
}

export interface LiveCensorOptions {
  host: string
  port: number
  rung: Rung
  block: string[]
  action: 'drop' | 'rst'
  log: (line: string) => void
}

export function startLiveCensor(o: LiveCensorOptions): Promise<net.Server> {
  const censor: Censor = censorFor(o.rung, { blocklist: { names: o.block }, action: { kind: o.action } })
  let nextId = 1
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    client.setNoDelay(true)
    client.on('error', () => {})
    const dst = originalDestination(readFileSync('/proc/net/nf_conntrack', 'utf8'), client.remoteAddress ?? '', client.remotePort ?? 0)
    if (!dst) {
      o.log(`${client.remoteAddress}:${client.remotePort}: no conntrack entry, reset`)
      return client.resetAndDestroy()
    }
    const flow: FlowInfo = { id: nextId++, clientHost: 'client', clientAddress: client.remoteAddress!, clientPort: client.remotePort!, serverHost: 'server', serverAddress: dst.address, serverPort: dst.port }
    const tuple = `${flow.clientAddress}:${flow.clientPort} -> ${dst.address}:${dst.port}`
    const syn = censor.syn(flow, performance.now())
    if (syn !== 'pass') {
      o.log(`${o.rung} ${tuple}: ${syn} at connect`)
      return syn === 'rst' ? client.resetAndDestroy() : undefined // drop: the client waits, as for a lost SYN
    }
    const upstream = net.connect({ host: dst.address, port: dst.port, allowHalfOpen: true })
    upstream.setNoDelay(true)
    const reset = (s: net.Socket) => s.destroyed || s.resetAndDestroy()
    upstream.on('error', () => reset(client))
    client.on('error', () => reset(upstream))
    client.on('close', () => upstream.destroyed || upstream.destroy())
    upstream.on('close', () => client.destroyed || client.destroy())
    let logged = censor.events.length
    const report = () => {
      for (; logged < censor.events.length; logged++) o.log(`${o.rung} ${tuple}: ${censor.events[logged].decision} (${censor.events[logged].reason})`)
    }
    const relay = (from: net.Socket, to: net.Socket, fromClient: boolean) => {
      let frozen = false
      from.on('data', (d: Buffer) => {
        if (frozen) return
        const v: Verdict = censor.segment({ flow, fromClient, bytes: d, flag: undefined, time: performance.now() })
        report()
        switch (v.kind) {
          case 'pass':
            if (!to.write(d)) from.pause()
            return
          case 'truncate':
            to.write(d.subarray(0, v.keep))
            frozen = true
            return
          case 'drop':
            frozen = true
            return
          case 'rst':
            reset(client)
            reset(upstream)
            return
        }
      })
      to.on('drain', () => from.resume())
      from.on('end', () => {
        censor.segment({ flow, fromClient, bytes: new Uint8Array(0), flag: 'fin', time: performance.now() })
        if (!frozen) to.end()
      })
    }
    relay(client, upstream, true)
    relay(upstream, client, false)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port, o.host, () => resolve(server))
  })
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const arg = (name: string): string[] => process.argv.flatMap((a, i) => (a === `--${name}` && process.argv[i + 1] ? [process.argv[i + 1]] : []))
  const [host, port] = (arg('listen')[0] ?? '').split(':')
  const rung = arg('rung')[0] as Rung
  const action = arg('action')[0] ?? 'rst'
  if (!host || !port || !['C2', 'C3', 'C4', 'C5', 'C6'].includes(rung) || (action !== 'rst' && action !== 'drop')) {
    process.stderr.write('usage: censor-process.ts --listen HOST:PORT --rung C2..C6 --block NAME [--block NAME ...] [--action rst|drop]\n')
    process.exit(2)
  }
  await startLiveCensor({ host, port: Number(port), rung, block: arg('block'), action, log: (l) => process.stdout.write(`${l}\n`) })
  process.stdout.write(`censor ${rung} (${action}) listening on ${host}:${port}\n`)
}

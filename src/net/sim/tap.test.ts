// The tap's pcap checked by tshark: per-direction TCP payload adds up to what was sent, checksums
// are valid, seq/ack raise no analysis warnings, and FIN and RST show up where they happened.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tapNetwork } from './tap.js'
import { record, twoHosts } from './test-helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'sultry-tap-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const fields = (pcap: string, filter: string, ...f: string[]): string[][] =>
  execFileSync('tshark', ['-r', pcap, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-Y', filter, '-T', 'fields', ...f.flatMap((x) => ['-e', x])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'))

describe('tapNetwork', () => {
  it('writes a pcap tshark reads as clean TCP: handshake, data both ways, FINs', async () => {
    const { net, a, accepted } = await twoHosts({ mss: 300, splitP: 0.5, coalesceP: 0.3, jitterMs: 4 }, { mss: 1000 })
    const pcap = join(dir, 'echo.pcap')
    const tap = await tapNetwork(net, pcap)
    const p = a.world.net.connect('b', 80)
    await net.run({ until: p })
    const c = await p
    const s = accepted[0]!
    s.on('data', (d: Buffer) => s.write(Buffer.from(d.toString().toUpperCase())))
    s.on('end', () => s.end())
    const cr = record(c, () => net.sched.now())
    c.end(Buffer.alloc(7000, 'abcdefg'))
    await net.run({ until: () => cr.closed })
    await tap.close()

    const pkts = fields(pcap, 'tcp', 'ip.src', 'tcp.len', 'tcp.flags.syn', 'tcp.flags.fin')
    const sum = (src: string) => pkts.filter((r) => r[0] === src).reduce((n, r) => n + Number(r[1]), 0)
    expect(sum('10.0.0.1')).toBe(7000)
    expect(sum('10.0.0.2')).toBe(7000)
    expect(pkts.filter((r) => r[2] === '1').length).toBe(2) // SYN, SYN-ACK
    expect(pkts.filter((r) => r[3] === '1').length).toBe(2) // a FIN each way
    expect(fields(pcap, 'ip.checksum.status == 0 || tcp.checksum.status == 0', 'frame.number')).toEqual([])
    expect(fields(pcap, 'tcp.analysis.flags && !tcp.analysis.window_update', 'frame.number')).toEqual([])
    // Timestamps are virtual time from the epoch: connected at 20 ms (one RTT), so the first data
    // (sent then, 10 ms latency) is stamped at 30 ms or later.
    const times = fields(pcap, 'tcp.len > 0', 'frame.time_epoch').map((r) => Number(r[0]))
    expect(Math.min(...times)).toBeGreaterThanOrEqual(0.03)
    expect(Math.max(...times)).toBeLessThan(1)
  })

  it('records a reset as RST', async () => {
    const { net, a, accepted } = await twoHosts()
    const pcap = join(dir, 'rst.pcap')
    const tap = await tapNetwork(net, pcap)
    const p = a.world.net.connect('b', 80)
    await net.run({ until: p })
    const cr = record(await p, () => net.sched.now())
    const sr = record(accepted[0]!, () => net.sched.now())
    net.reset('a', 'b')
    await net.run({ until: () => cr.closed && sr.closed })
    await tap.close()
    expect(fields(pcap, 'tcp.flags.reset == 1', 'ip.src').length).toBe(1)
    expect(sr.errors.length).toBe(1)
  })
})

// The simulated Tor network scenario: it passes, the same seed reproduces its trace hash, another
// seed gives another run, and its pcap tap holds the traffic with TLS keys for every link.

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readCapture } from '../../src/wire/pcap/capture.js'
import { reassembleCapture } from '../../src/wire/pcap/reassemble-capture.js'
import { runTorSim } from './sim.js'

const dir = mkdtempSync(join(tmpdir(), 'sultry-tor-sim-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const log = () => {}

describe('a Tor network in the simulator', () => {
  it('bootstraps, fetches, downloads with SENDMEs, survives an exit crash, takes the next consensus; same seed, same trace', async () => {
    const pcap = join(dir, 'tor.pcap')
    const a = await runTorSim({ seed: 11, log, pcap })
    expect(a.ok, a.detail).toBe(true)
    expect(a.steps.some((s) => s.startsWith('crashed exit'))).toBe(true)
    // The next consensus (valid-after 1 h) came from the guard within dir-spec §5.1's window.
    const refresh = a.steps.find((s) => s.includes('directory: consensus valid-after 1970-01-01 01:00:00'))
    expect(refresh, a.steps.join('\n')).toMatch(/1 joined, 1 left; 1 microdescriptors fetched.*no DirPort/)
    const minutes = Number(/^at ([\d.]+) min/.exec(refresh!)?.[1])
    expect(minutes).toBeGreaterThanOrEqual(105)
    expect(minutes).toBeLessThanOrEqual(172)
    // By then the circuit in use is over 10 minutes dirty: the next request had a fresh one.
    expect(a.steps.some((s) => s.startsWith('after the refresh: a fresh circuit'))).toBe(true)
    // A user with only a bridge line: everything through bridge0, no authority asked.
    expect(a.steps.find((s) => s.startsWith('bridge user:'))).toMatch(/^bridge user: [1-9]\d* directory requests to bridge0 .*none to an authority; page through bridge0 -> /)
    const b = await runTorSim({ seed: 11, log })
    expect(b.ok, b.detail).toBe(true)
    expect(b.traceHash).toBe(a.traceHash)
    const c = await runTorSim({ seed: 12, log })
    expect(c.ok, c.detail).toBe(true)
    expect(c.traceHash).not.toBe(a.traceHash)
    // The tap wrote packets and one keylog line per TLS secret of every link.
    // The tap holds every flow: the client's DirPort fetches, its ORPort link to a guard (TLS: record
    // type 22 first), and relay-to-relay links; the exit's link to the web server carries the bulk.
    const { flows } = reassembleCapture(readCapture(new Uint8Array(readFileSync(pcap))))
    const fromClient = flows.filter((f) => f.client.addr === '10.0.0.1')
    expect(fromClient.some((f) => f.server.port === 7000)).toBe(true)
    const orLinks = fromClient.filter((f) => f.server.port === 9001)
    expect(orLinks.length).toBeGreaterThan(0)
    expect(orLinks.every((f) => f.toServer.bytes[0] === 22)).toBe(true)
    const webFlows = flows.filter((f) => f.server.addr === '10.0.5.1')
    expect(Math.max(...webFlows.map((f) => f.toClient.bytes.length))).toBeGreaterThan(600_000)
    expect(statSync(pcap).size).toBeGreaterThan(1_000_000)
    expect(existsSync(`${pcap}.keylog`)).toBe(true)
    expect(readFileSync(`${pcap}.keylog`, 'latin1')).toMatch(/CLIENT_TRAFFIC_SECRET_0 /)
  }, 120_000)
})

// The tls-handshake scenario end to end, with tshark as the oracle: the tapped pcap plus its keylog
// must decrypt (inner handshake messages and the HTTP exchange visible), must not decrypt without
// the keylog, and the synthesized TCP must be clean (checksums good, no seq/ack anomalies).

import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runTlsHandshake } from './scenarios/tls-handshake.js'

const dir = mkdtempSync(join(tmpdir(), 'sultry-tls-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Every value of `field` over the frames matching `filter`, split on tshark's aggregator. */
function fieldValues(pcap: string, field: string, filter: string, keylog?: string): string[] {
  const out = tshark(['-r', pcap, ...(keylog ? ['-o', `tls.keylog_file:${keylog}`] : []), '-Y', filter, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', '-e', field])
  return out.split(/[\n,]/).map((s) => s.trim()).filter(Boolean)
}

describe('tls-handshake scenario', () => {
  const seed = 20261122
  const pcap = join(dir, 'tls.pcap')
  let first: Awaited<ReturnType<typeof runTlsHandshake>>

  it('completes TLS 1.3 and exchanges the request and response intact', async () => {
    first = await runTlsHandshake({ seed, pcap, log: () => {} })
    expect(first.ok, first.detail).toBe(true)
    expect(first.detail).toContain('TLS 1.3')
  })

  it('gives the same trace hash when run again with the same seed', async () => {
    const again = await runTlsHandshake({ seed, log: () => {} })
    expect(again.ok, again.detail).toBe(true)
    expect(again.traceHash).toBe(first.traceHash)
    expect(again.virtualMs).toBe(first.virtualMs)
  })

  it('writes a keylog with both directions\' TLS 1.3 secrets', () => {
    const labels = readFileSync(`${pcap}.keylog`, 'utf8').trim().split('\n').map((l) => l.split(' ')[0])
    for (const l of ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0']) {
      expect(labels).toContain(l)
    }
  })

  it('decrypts in tshark with the keylog: handshake types 1, 2, 8, 11, 15, 20 and the HTTP exchange', () => {
    const keylog = `${pcap}.keylog`
    const types = new Set(fieldValues(pcap, 'tls.handshake.type', 'tls', keylog).map(Number))
    // RFC 8446 §4: client_hello 1, server_hello 2, encrypted_extensions 8, certificate 11,
    // certificate_verify 15, finished 20, new_session_ticket 4.
    for (const t of [1, 2, 8, 11, 15, 20, 4]) expect(types.has(t), `handshake type ${t} in ${[...types]}`).toBe(true)
    expect(fieldValues(pcap, 'http.request.uri', 'http.request', keylog)).toEqual(['/lab'])
    expect(fieldValues(pcap, 'http.response.code', 'http.response', keylog)).toEqual(['200'])
    const follow = tshark(['-r', pcap, '-o', `tls.keylog_file:${keylog}`, '-q', '-z', 'follow,tls,ascii,0'])
    expect(follow).toContain('GET /lab HTTP/1.1')
    expect(follow).toContain(`sultry lab seed ${seed}: hello over simulated TLS 1.3`)
  })

  it('does not decrypt without the keylog (the plaintext above came from the secrets)', () => {
    const types = new Set(fieldValues(pcap, 'tls.handshake.type', 'tls').map(Number))
    expect(types.has(1) && types.has(2)).toBe(true)
    for (const t of [8, 11, 15]) expect(types.has(t)).toBe(false)
    expect(fieldValues(pcap, 'http.request.uri', 'http.request')).toEqual([])
  })

  it('has valid IPv4/TCP checksums and no TCP sequence anomalies', () => {
    const checks = ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE']
    const frames = tshark(['-r', pcap, ...checks, '-T', 'fields', '-e', 'frame.number']).trim().split('\n')
    expect(frames.length).toBeGreaterThan(10)
    const bad = tshark(['-r', pcap, ...checks, '-Y', 'ip.checksum.status == 0 || tcp.checksum.status == 0', '-T', 'fields', '-e', 'frame.number'])
    expect(bad.trim()).toBe('')
    const anomalies = tshark(['-r', pcap, '-Y', 'tcp.analysis.flags && !tcp.analysis.window_update', '-T', 'fields', '-e', 'frame.number', '-e', '_ws.expert.message'])
    expect(anomalies.trim()).toBe('')
  })
})

// The committed-oracle path `make lab` uses (no tshark): every capture agrees with its committed
// tshark oracle and hand-written facts, and the comparison and fact checks do catch differences.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { capturesDir, checkCapture, checkFact, dissectCommitted, listCaptures } from './check.js'
import { collect, compareViews, type Json, loadOracle, normaliseOurs, normaliseTshark } from './oracle.js'

describe('committed captures', () => {
  it('lists the seven recorded captures', () => {
    expect(listCaptures()).toEqual([
      'chromium-netns',
      'curl-nginx',
      'openssl-split-records',
      'openssl-split-segments',
      'openssl-tls12',
      'openssl-tls13',
      'openssl-tls13-hrr',
    ])
  })

  for (const name of listCaptures()) {
    it(`${name} matches its committed oracle and expect file`, async () => {
      const r = await checkCapture(name)
      expect(r.detail).toMatch(/expected facts hold/)
      expect(r.ok).toBe(true)
    })
  }

  it('reports a capture that is not there', async () => {
    const r = await checkCapture('no-such-capture')
    expect(r.ok).toBe(false)
    expect(r.detail).toMatch(/cannot read capture/)
  })
})

describe('comparison catches differences', () => {
  const name = 'openssl-split-records'
  const oracle = loadOracle(join(capturesDir, `${name}.oracle.json`))
  const ours = normaliseOurs(dissectCommitted(name))

  it('a record length off by one is reported with flow, direction, index and field', () => {
    const bent = structuredClone(oracle.flows)
    bent[0].toServer.records[1].length += 1
    expect(compareViews(ours, bent)).toEqual([{ flow: 0, dir: 'toServer', index: 1, field: 'records.length', ours: 164, tshark: 165 }])
  })

  it('a reordered extension list and a different SNI are reported', () => {
    const bent = structuredClone(oracle.flows)
    const ch = bent[0].toServer.handshakes[0].clientHello!
    ch.extensions.reverse()
    ch.sni = 'allowed.example'
    const fields = compareViews(ours, bent).map((d) => d.field)
    expect(fields).toEqual(['handshakes.clientHello.extensions', 'handshakes.clientHello.sni'])
  })

  it('a missing inner handshake is reported', () => {
    const bent = structuredClone(oracle.flows)
    bent[0].toClient.inner.handshakes.pop()
    expect(compareViews(ours, bent).map((d) => d.field)).toEqual(['inner.handshakes.count'])
  })

  it('a fact that does not hold fails with the reason', () => {
    const d = dissectCommitted(name)
    expect(checkFact(d, { say: 'x', flow: 0, clientHello: { records: 2, segments: 1, sni: 'blocked.example' } })).toBeUndefined()
    expect(checkFact(d, { say: 'x', flow: 0, clientHello: { records: 1 } })).toBe('spans 2 record(s)')
    expect(checkFact(d, { say: 'x', flow: 0, clientHello: { sni: 'allowed.example' } })).toBe('SNI blocked.example')
    expect(checkFact(d, { say: 'x', flows: 2 })).toBe('1 flows')
    expect(checkFact(d, { say: 'x', flow: 0, dir: 'toClient', plaintextIncludes: 'not in there' })).toMatch(/^plaintext "HTTP\/1.0 200 ok/)
  })
})

describe('tshark JSON normalisation', () => {
  // Shape of `tshark 4.0.17 -T json --no-duplicate-keys -x` output for a ClientHello with two
  // GREASE extensions of the same length: the same-named subtrees are merged into one array placed
  // at the first one's position, so only the _raw offsets give the wire order back.
  const hello = {
    'tls.handshake.type': '1',
    'tls.handshake.length': '100',
    'Extension: Reserved (GREASE) (len=0)': [
      { 'tls.handshake.extension.type': '2570', 'tls.handshake.extension.type_raw': ['0a0a', 100, 2, 0, 5] },
      { 'tls.handshake.extension.type': '64250', 'tls.handshake.extension.type_raw': ['fafa', 300, 2, 0, 5] },
    ],
    'Extension: server_name (len=20)': {
      'tls.handshake.extension.type': '0',
      'tls.handshake.extension.type_raw': ['0000', 104, 2, 0, 5],
      'Server Name Indication extension': { 'tls.handshake.extensions_server_name': 'blocked.example' },
    },
  }

  it('collect() restores wire order from the _raw offsets', () => {
    expect(collect(hello, 'tls.handshake.extension.type')).toEqual(['2570', '0', '64250'])
  })

  it('normaliseTshark keeps outer and inner record types apart and numbers flows by tcp.stream', () => {
    const frame = (src: number, dst: number, flags: string, tls?: Json): Json => {
      const layers: { [k: string]: Json } = { ip: { 'ip.src': '127.0.0.1', 'ip.dst': '127.0.0.1' }, tcp: { 'tcp.stream': '3', 'tcp.srcport': String(src), 'tcp.dstport': String(dst), 'tcp.flags': flags } }
      if (tls) layers.tls = tls
      return { _source: { layers } }
    }
    const flows = normaliseTshark([
      frame(5000, 443, '0x0002'),
      frame(443, 5000, '0x0018', {
        'tls.record': [
          { 'tls.record.content_type': '20', 'tls.record.version': '0x0303', 'tls.record.length': '1' },
          { 'tls.record.opaque_type': '23', 'tls.record.version': '0x0303', 'tls.record.length': '38', 'tls.record.content_type': '22', 'tls.handshake': { 'tls.handshake.type': '8', 'tls.handshake.length': '17' } },
        ],
      }),
    ])
    expect(flows).toEqual([
      {
        stream: 3,
        client: '127.0.0.1:5000',
        server: '127.0.0.1:443',
        toServer: { records: [], handshakes: [], inner: { types: [], handshakes: [] } },
        toClient: { records: [{ type: 20, version: 0x0303, length: 1 }, { type: 23, version: 0x0303, length: 38 }], handshakes: [], inner: { types: [22], handshakes: [8] } },
      },
    ])
  })

  it('the committed oracles were made by tshark', () => {
    for (const name of listCaptures()) {
      expect(JSON.parse(readFileSync(join(capturesDir, `${name}.oracle.json`), 'utf8')).generatedBy).toMatch(/^TShark \(Wireshark\) 4\./)
    }
  })
})

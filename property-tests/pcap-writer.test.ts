import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { toHex } from '../src/wire/bytes.js'
import { PcapWriter, type PcapRecord } from '../src/wire/pcap/writer.js'
import { TcpFlowSynth } from '../src/wire/pcap/tcp-synth.js'
import { followTcp, tshark } from './pcap-tshark.js'

const dir = mkdtempSync(join(tmpdir(), 'sultry-pcap-writer-'))

function patterned(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff
  return b
}

describe('PcapWriter', () => {
  // pcap-savefile(5) / draft-ietf-opsawg-pcap §4: magic a1b2c3d4, version 2.4, thiszone 0,
  // sigfigs 0, snaplen, LinkType; LINKTYPE_RAW = 101 (tcpdump.org/linktypes.html).
  it('writes the classic file header and a record header', () => {
    const w = new PcapWriter()
    expect(toHex(w.header())).toBe('a1b2c3d4' + '0002' + '0004' + '00000000' + '00000000' + '00040000' + '00000065')
    // ts 1.5 s = sec 1, usec 500000 (0x7a120); caplen = origlen = 3
    expect(toHex(w.packet(1_500_000, Uint8Array.of(1, 2, 3)))).toBe('00000001' + '0007a120' + '00000003' + '00000003' + '010203')
  })

  it('cuts packets to snaplen and keeps the original length', () => {
    const rec = new PcapWriter({ snaplen: 4, linkType: 1 }).packet(0, new Uint8Array(10))
    expect(toHex(rec.subarray(8, 16))).toBe('00000004' + '0000000a')
    expect(rec.length).toBe(16 + 4)
  })
})

describe('TcpFlowSynth, checked by tshark', () => {
  const c2s = [patterned(5000, 1), patterned(1, 2), patterned(777, 3)]
  const s2c = [patterned(300, 4), patterned(2920, 5), patterned(10, 6)]

  function conversation(flow: TcpFlowSynth, t0: number): PcapRecord[] {
    let t = t0
    const out: PcapRecord[] = [...flow.open(t)]
    for (let i = 0; i < 3; i++) {
      out.push(...flow.data('c2s', c2s[i], (t += 100)))
      out.push(...flow.data('s2c', s2c[i], (t += 100)))
    }
    out.push(...flow.fin('c2s', (t += 100)))
    out.push(...flow.data('s2c', patterned(50, 7), (t += 100))) // after the half-close
    out.push(...flow.fin('s2c', (t += 100)))
    return out
  }

  it('gives good checksums, no expert complaints, and follow,tcp returns the bytes written', () => {
    const v4 = new TcpFlowSynth({
      client: { addr: '10.0.0.1', port: 40000 },
      server: { addr: '192.0.2.7', port: 443 },
      clientIsn: 0xfffff000, // wraps during the 5000-byte write
      serverIsn: 0x12345678,
      mss: 1000,
    })
    const v6 = new TcpFlowSynth({
      client: { addr: '2001:db8::1', port: 50000 },
      server: { addr: '2001:db8::2', port: 80 },
      clientIsn: 1,
      serverIsn: 0xffffffff,
    })
    const reset = new TcpFlowSynth({ client: { addr: '10.0.0.3', port: 1234 }, server: { addr: '10.0.0.4', port: 22 }, clientIsn: 5, serverIsn: 9 })
    const records = [
      ...conversation(v4, 1_700_000_000_000_000),
      ...conversation(v6, 1_700_000_001_000_000),
      ...reset.open(1_700_000_002_000_000),
      ...reset.data('c2s', patterned(20, 8), 1_700_000_002_000_100),
      ...reset.rst('s2c', 1_700_000_002_000_200),
    ]
    const file = join(dir, 'synth.pcap')
    writeFileSync(file, new PcapWriter().file(records))

    const rows = tshark([
      '-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE',
      '-T', 'fields', '-E', 'separator=,', '-e', 'ip.checksum.status', '-e', 'tcp.checksum.status', '-e', 'tcp.stream', '-e', 'tcp.flags.reset',
    ]).trim().split('\n').map((l) => l.split(','))
    expect(rows.length).toBe(records.length)
    // Wireshark's checksum status: 1 = good (0 bad, 2 unverified). IPv6 has no header checksum.
    for (const [ipStatus, tcpStatus, stream] of rows) {
      expect(tcpStatus).toBe('1')
      expect(ipStatus).toBe(stream === '1' ? '' : '1')
    }
    expect(rows.filter((r) => r[3] === '1' || r[3] === 'True').map((r) => r[2])).toEqual(['2'])

    const experts = tshark(['-r', file, '-T', 'fields', '-e', '_ws.expert.message']).split('\n').filter(Boolean)
    expect(experts.join('\n')).not.toMatch(/previous segment not captured|ACKed unseen|retransmission|out-of-order|Dup ACK|checksum/i)
    expect(experts.some((m) => m.includes('SYN'))).toBe(true) // the expert field is populated at all

    const want = (parts: Uint8Array[]): string => parts.map(toHex).join('')
    for (const stream of [0, 1]) {
      const f = followTcp(file, stream)
      expect(toHex(f.fromNode0)).toBe(want(c2s))
      expect(toHex(f.fromNode1)).toBe(want([...s2c, patterned(50, 7)]))
    }
    expect(followTcp(file, 0).node0).toBe('10.0.0.1:40000')
    expect(toHex(followTcp(file, 2).fromNode0)).toBe(toHex(patterned(20, 8)))
  })
})

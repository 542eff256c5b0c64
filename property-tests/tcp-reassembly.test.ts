import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concatBytes, toHex } from '../src/wire/bytes.js'
import { parseIp } from '../src/wire/ip/address.js'
import { TcpFlag, decodeTcp } from '../src/wire/ip/tcp.js'
import { decodeIpv4, encodeIpv4 } from '../src/wire/ip/ipv4.js'
import { readCapture } from '../src/wire/pcap/capture.js'
import { reassembleCapture } from '../src/wire/pcap/reassemble-capture.js'
import { TcpReassembler } from '../src/wire/pcap/tcp-reassembly.js'
import { TcpFlowSynth, type Direction } from '../src/wire/pcap/tcp-synth.js'
import { PcapWriter, type PcapRecord } from '../src/wire/pcap/writer.js'
import { followTcp, followTcpMany, tshark } from './pcap-tshark.js'

const QUICK = process.env.SULTRY_QUICK === '1'
const u32Arb = () => fc.integer({ min: 0, max: 0xffffffff })
const dir = mkdtempSync(join(tmpdir(), 'sultry-tcp-reassembly-'))
const PSH_ACK = TcpFlag.PSH | TcpFlag.ACK

function synth(clientIsn: number, serverIsn: number, port = 40000): TcpFlowSynth {
  return new TcpFlowSynth({ client: { addr: '10.0.0.1', port }, server: { addr: '10.0.0.2', port: 443 }, clientIsn, serverIsn })
}

/** A segment of the stream [from, to) of `dir`, carrying the original bytes. */
function piece(flow: TcpFlowSynth, dir: Direction, isn: number, stream: Uint8Array, from: number, to: number): PcapRecord {
  return flow.segment(dir, { seq: (isn + 1 + from) >>> 0, flags: PSH_ACK, payload: stream.subarray(from, to) }, 0)
}

function viaFile(records: PcapRecord[]): ReturnType<typeof reassembleCapture> {
  const bytes = new PcapWriter().file(records.map((r, i) => ({ ...r, tsMicros: 1_000_000 + i })))
  return reassembleCapture(readCapture(bytes))
}

const isn = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0xffffffff - 3000, max: 0xffffffff }))
const stream = fc.uint8Array({ maxLength: 3000, size: 'max' })
const cuts = fc.array(fc.nat(), { maxLength: 30 })
const extras = fc.array(fc.tuple(fc.nat(), fc.nat(600)), { maxLength: 15 }) // (start, length) overlaps and duplicates

function segmentsOf(flow: TcpFlowSynth, d: Direction, isnV: number, s: Uint8Array, cutPoints: number[], more: [number, number][]): PcapRecord[] {
  const points = [...new Set(cutPoints.map((c) => c % (s.length + 1)))].sort((a, b) => a - b)
  const bounds = [0, ...points, s.length]
  const out: PcapRecord[] = []
  for (let i = 1; i < bounds.length; i++) if (bounds[i] > bounds[i - 1]) out.push(piece(flow, d, isnV, s, bounds[i - 1], bounds[i]))
  for (const [start, len] of more) {
    if (s.length === 0) break
    const a = start % s.length
    out.push(piece(flow, d, isnV, s, a, Math.min(s.length, a + 1 + len)))
  }
  return out
}

describe('TCP reassembly', () => {
  it('recovers both byte streams exactly from reordered, duplicated and overlapping segments', () => {
    fc.assert(
      fc.property(isn, isn, stream, stream, cuts, cuts, extras, extras, fc.infiniteStream(fc.nat()), (ci, si, c2s, s2c, cc, sc, ce, se, rnd) => {
        const flow = synth(ci, si)
        const open = flow.open(0)
        const data = [...segmentsOf(flow, 'c2s', ci, c2s, cc, ce), ...segmentsOf(flow, 's2c', si, s2c, sc, se)]
        // Fisher–Yates with fast-check's numbers, so failures shrink and replay.
        const it = rnd[Symbol.iterator]()
        for (let i = data.length - 1; i > 0; i--) {
          const j = it.next().value % (i + 1)
          ;[data[i], data[j]] = [data[j], data[i]]
        }
        const finC = flow.segment('c2s', { seq: (ci + 1 + c2s.length) >>> 0, flags: TcpFlag.FIN | TcpFlag.ACK }, 0)
        const finS = flow.segment('s2c', { seq: (si + 1 + s2c.length) >>> 0, flags: TcpFlag.FIN | TcpFlag.ACK }, 0)
        const { flows, skipped } = viaFile([...open, ...data, finC, finS])
        expect(skipped).toEqual({ notIp: 0, notTcp: 0, fragments: 0, unsupportedLink: 0, malformed: 0 })
        expect(flows.length).toBe(1)
        const f = flows[0]
        expect(f.client).toEqual({ addr: '10.0.0.1', port: 40000 })
        expect(toHex(f.toServer.bytes)).toBe(toHex(c2s))
        expect(toHex(f.toClient.bytes)).toBe(toHex(s2c))
        expect([f.toServer.gaps, f.toClient.gaps]).toEqual([[], []])
        expect([f.toServer.fin, f.toClient.fin]).toEqual([true, true])
        // Chunks tile the stream in order.
        let at = 0
        for (const ch of f.toServer.chunks) {
          expect(ch.offset).toBe(at)
          at += ch.length
        }
        expect(at).toBe(c2s.length)
      }),
      { numRuns: QUICK ? 100 : 1000 },
    )
  })

  it('streams the same bytes out of feed() as finish() returns', () => {
    fc.assert(
      fc.property(isn, stream, cuts, extras, (ci, c2s, cc, ce) => {
        const flow = synth(ci, 5)
        const recs = [...flow.open(0), ...segmentsOf(flow, 'c2s', ci, c2s, cc, ce).reverse()]
        const r = new TcpReassembler()
        const seen: Uint8Array[] = []
        for (const rec of recs) {
          const ip = decodeIpv4(rec.data)
          for (const ev of r.feed({ sec: 0, nsec: 0 }, ip.header.src, ip.header.dst, decodeTcp(ip.payload))) {
            expect([ev.flow, ev.dir]).toEqual([0, 'toServer'])
            seen.push(ev.data)
          }
        }
        expect(toHex(concatBytes(...seen))).toBe(toHex(c2s))
        expect(toHex(r.finish()[0].toServer.bytes)).toBe(toHex(c2s))
      }),
      { numRuns: QUICK ? 100 : 1000 },
    )
  })

  it('bounds the reorder buffer: a hole that never fills becomes a recorded gap', () => {
    const flow = synth(1000, 2000)
    const s = Uint8Array.from({ length: 100 }, (_, i) => i)
    const recs = [...flow.open(0)]
    for (let at = 10; at < 100; at += 10) recs.push(piece(flow, 'c2s', 1000, s, at, at + 10)) // bytes 0..9 lost
    const r = new TcpReassembler({ maxBufferedSegments: 4 })
    let delivered = 0
    for (const rec of recs) {
      const ip = decodeIpv4(rec.data)
      for (const ev of r.feed({ sec: 0, nsec: 0 }, ip.header.src, ip.header.dst, decodeTcp(ip.payload))) delivered += ev.data.length
    }
    // The 5th waiting segment overflowed the buffer, so the hole was given up before finish().
    expect(delivered).toBe(90)
    const [f] = r.finish()
    expect(f.toServer.gaps).toEqual([{ at: 0, length: 10 }])
    expect(toHex(f.toServer.bytes)).toBe(toHex(s.subarray(10)))
  })

  it('records a hole still open at the end as a gap, and RST', () => {
    const flow = synth(7, 9)
    const s = new Uint8Array(30).fill(0x61)
    const { flows } = viaFile([...flow.open(0), piece(flow, 'c2s', 7, s, 0, 10), piece(flow, 'c2s', 7, s, 20, 30), flow.segment('s2c', { seq: 10, flags: TcpFlag.RST }, 0)])
    expect(flows[0].toServer.gaps).toEqual([{ at: 10, length: 10 }])
    expect(flows[0].toServer.bytes.length).toBe(20)
    expect([flows[0].toClient.rst, flows[0].toServer.rst]).toEqual([true, false])
  })

  it('without a SYN, the first sender is the client and its first segment sets the ISN', () => {
    const flow = synth(100, 200)
    const s = new TextEncoder().encode('mid-stream bytes')
    const { flows } = viaFile([piece(flow, 's2c', 200, s, 0, 5), piece(flow, 's2c', 200, s, 5, 16)])
    expect(flows[0].client).toEqual({ addr: '10.0.0.2', port: 443 })
    expect(new TextDecoder().decode(flows[0].toServer.bytes)).toBe('mid-stream bytes')
  })

  it('numbers flows like tshark tcp.stream and agrees with follow,tcp on conflicting overlaps', () => {
    const a = synth(0xfffffff0, 50, 1111)
    const b = synth(300, 400, 2222)
    const enc = (t: string): Uint8Array => new TextEncoder().encode(t)
    const recs: PcapRecord[] = [
      ...b.open(0), // b first: flow 0
      ...a.open(0),
      ...b.data('c2s', enc('hello from b'), 0),
      // a: in-order "AAAAAAAAAA" then a retransmission of bytes 5..14 with different content;
      // the first copy of bytes 5..9 must win, bytes 10..14 are new.
      a.segment('c2s', { seq: (0xfffffff0 + 1) >>> 0, flags: PSH_ACK, payload: enc('AAAAAAAAAA') }, 0),
      a.segment('c2s', { seq: (0xfffffff0 + 1 + 5) >>> 0, flags: PSH_ACK, payload: enc('BBBBBBBBBB') }, 0),
      ...a.fin('c2s', 0),
      ...b.fin('c2s', 0),
      ...b.fin('s2c', 0),
      ...a.fin('s2c', 0),
    ]
    // Port reuse: a new SYN on b's 4-tuple after b closed is a new conversation (flow 2).
    const b2 = synth(9000, 9100, 2222)
    recs.push(...b2.open(0), ...b2.data('s2c', enc('second life'), 0))
    const file = join(dir, 'numbering.pcap')
    const bytes = new PcapWriter().file(recs.map((r, i) => ({ ...r, tsMicros: 1_000_000 + i })))
    writeFileSync(file, bytes)
    const { flows } = reassembleCapture(readCapture(bytes))

    const streams = tshark(['-r', file, '-T', 'fields', '-E', 'separator=,', '-e', 'tcp.stream', '-e', 'tcp.srcport', '-e', 'tcp.dstport']).trim().split('\n')
    const firstPorts = new Map<string, string>()
    for (const l of streams) {
      const [id, sp, dp] = l.split(',')
      if (!firstPorts.has(id)) firstPorts.set(id, [sp, dp].sort().join('/'))
    }
    expect(flows.map((f) => [String(f.id), [String(f.client.port), String(f.server.port)].sort().join('/')])).toEqual([...firstPorts.entries()])
    expect(flows.length).toBe(3)
    for (const f of flows) {
      const t = followTcp(file, f.id)
      expect(t.node0).toBe(`${f.client.addr}:${f.client.port}`)
      expect(toHex(f.toServer.bytes)).toBe(toHex(t.fromNode0))
      expect(toHex(f.toClient.bytes)).toBe(toHex(t.fromNode1))
    }
    expect(new TextDecoder().decode(flows[1].toServer.bytes)).toBe('AAAAAAAAAABBBBB')
    expect(new TextDecoder().decode(flows[2].toClient.bytes)).toBe('second life')
  })

  it('out-of-order overlaps: the first copy to reach the in-order edge wins, as in tshark', () => {
    const flow = synth(0, 0)
    const enc = (t: string): Uint8Array => new TextEncoder().encode(t)
    const recs = [
      ...flow.open(0),
      flow.segment('c2s', { seq: 1 + 10, flags: PSH_ACK, payload: enc('CCCCCCCCCC') }, 0), // bytes 10..19, first
      flow.segment('c2s', { seq: 1 + 5, flags: PSH_ACK, payload: enc('DDDDDDDDDD') }, 0), // bytes 5..14
      flow.segment('c2s', { seq: 1, flags: PSH_ACK, payload: enc('EEEEEEE') }, 0), // bytes 0..6
    ]
    const { flows } = viaFile(recs)
    // E lands on the edge first (0..6); then D touches it (7..14), then C (15..19).
    expect(new TextDecoder().decode(flows[0].toServer.bytes)).toBe('EEEEEEEDDDDDDDDCCCCC')
    const file = join(dir, 'ooo-overlap.pcap')
    writeFileSync(file, new PcapWriter().file(recs.map((r, i) => ({ ...r, tsMicros: 1_000_000 + i }))))
    expect(new TextDecoder().decode(followTcp(file, 0).fromNode0)).toBe('EEEEEEEDDDDDDDDCCCCC')
  })

  it('resolves conflicting overlaps exactly as tshark follow,tcp does (random cases)', () => {
    // Each case is one flow: segments tiling the stream plus random overlapping segments, all
    // with independent random contents, shuffled. Only the overlap rule decides the bytes.
    const one = fc.record({
      len: fc.integer({ min: 1, max: 200 }),
      cuts,
      more: extras,
      order: fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
      seed: fc.integer({ min: 1, max: 255 }),
      isn: isn,
    })
    const cases = fc.sample(one, { numRuns: QUICK ? 10 : 60, seed: 20261122 })
    const recs: PcapRecord[] = []
    const expected: Uint8Array[] = []
    cases.forEach((c, k) => {
      const flow = synth(c.isn, 1, 10000 + k)
      recs.push(...flow.open(0))
      let fill = c.seed
      const rand = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => (fill = (fill * 73 + 41) & 0xff))
      const noise = rand(c.len)
      const segs = segmentsOf(flow, 'c2s', c.isn, noise, c.cuts, c.more).map((r) => {
        // Same seq and length, fresh contents: every copy of a byte may disagree.
        const ip = decodeIpv4(r.data)
        const t = decodeTcp(ip.payload)
        return flow.segment('c2s', { seq: t.seq, flags: PSH_ACK, payload: rand(t.payload.length) }, 0)
      })
      for (let i = segs.length - 1; i > 0; i--) {
        const j = c.order[i % 64] % (i + 1)
        ;[segs[i], segs[j]] = [segs[j], segs[i]]
      }
      recs.push(...segs)
    })
    const file = join(dir, 'overlap-oracle.pcap')
    const bytes = new PcapWriter().file(recs.map((r, i) => ({ ...r, tsMicros: 1_000_000 + i })))
    writeFileSync(file, bytes)
    const { flows } = reassembleCapture(readCapture(bytes))
    expect(flows.length).toBe(cases.length)
    const theirs = followTcpMany(file, flows.map((f) => f.id))
    flows.forEach((f, i) => {
      expected.push(theirs[i].fromNode0)
      expect(f.toServer.gaps).toEqual([])
      expect(toHex(f.toServer.bytes)).toBe(toHex(theirs[i].fromNode0))
    })
    expect(expected.every((e, i) => e.length === cases[i].len)).toBe(true)
  })

  it('maps a segment to the right stream offset across sequence wraparound', () => {
    const ci = 0xffffffff - 2
    const flow = synth(ci, 1)
    const s = Uint8Array.from({ length: 8 }, (_, i) => 0x30 + i)
    const seg = (from: number, to: number) => piece(flow, 'c2s', ci, s, from, to)
    const { flows } = viaFile([...flow.open(0), seg(4, 8), seg(0, 2), seg(2, 4)])
    expect(toHex(flows[0].toServer.bytes)).toBe(toHex(s))
    expect(parseIp(flows[0].server.addr)).toEqual(Uint8Array.of(10, 0, 0, 2))
  })

  it('turns bytes cut by snaplen into gaps at the right places', () => {
    const flow = synth(77, 88)
    const s = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff)
    const recs = [...flow.open(0), ...flow.data('c2s', s, 0)] // 1460 + 1460 + 80 bytes
    const snaplen = 20 + 20 + 100 // IPv4 + TCP headers + 100 payload bytes
    const bytes = new PcapWriter({ snaplen }).file(recs.map((r, i) => ({ ...r, tsMicros: i })))
    const { flows } = reassembleCapture(readCapture(bytes))
    const f = flows[0].toServer
    expect(f.gaps).toEqual([{ at: 100, length: 1360 }, { at: 200, length: 1360 }])
    expect(toHex(f.bytes)).toBe(toHex(concatBytes(s.subarray(0, 100), s.subarray(1460, 1560), s.subarray(2920, 3000))))
  })

  it('handles IPv6 flows and prints their addresses per RFC 5952', () => {
    const flow = new TcpFlowSynth({ client: { addr: '2001:db8:0:0:0:0:0:1', port: 5 }, server: { addr: 'fe80::2', port: 6 }, clientIsn: 1, serverIsn: 2, mss: 100 })
    const s = new Uint8Array(1000).fill(3)
    const { flows } = viaFile([...flow.open(0), ...flow.data('s2c', s, 0).reverse()])
    expect([flows[0].client.addr, flows[0].server.addr]).toEqual(['2001:db8::1', 'fe80::2'])
    expect(flows[0].toClient.bytes).toEqual(s)
  })

  it('never throws and never holds more than its bounds, whatever the segments', () => {
    const maxSegments = 8
    const seg = fc.record({
      fromClient: fc.boolean(),
      seq: fc.oneof(u32Arb(), fc.integer({ min: 0, max: 4000 })),
      flags: fc.integer({ min: 0, max: 255 }),
      payload: fc.uint8Array({ maxLength: 300 }),
    })
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 60 }), (segs) => {
        const r = new TcpReassembler({ maxBufferedSegments: maxSegments, maxBufferedBytes: 1000 })
        const a = parseIp('10.0.0.1')
        const b = parseIp('10.0.0.2')
        let delivered = 0
        for (const x of segs) {
          const t = { ack: 0, dataOffset: 5, reserved: 0, window: 0, checksum: 0, urgentPointer: 0, options: new Uint8Array(0) }
          const evs = r.feed({ sec: 0, nsec: 0 }, x.fromClient ? a : b, x.fromClient ? b : a, { ...t, srcPort: x.fromClient ? 1 : 2, dstPort: x.fromClient ? 2 : 1, seq: x.seq, flags: x.flags, payload: x.payload })
          for (const e of evs) delivered += e.data.length
          for (const held of r.buffered()) {
            expect(held.segments).toBeLessThanOrEqual(maxSegments)
            expect(held.bytes).toBeLessThanOrEqual(1000)
          }
        }
        const flows = r.finish()
        const total = flows.reduce((n, f) => n + f.toServer.bytes.length + f.toClient.bytes.length, 0)
        expect(total).toBeGreaterThanOrEqual(delivered)
        // Every byte out came from some segment: no invention.
        expect(total).toBeLessThanOrEqual(segs.reduce((n, x) => n + x.payload.length, 0))
      }),
      { numRuns: QUICK ? 300 : 2000 },
    )
  })

  it('skips and counts what is not reassemblable TCP', () => {
    const flow = synth(1, 2)
    const [syn] = flow.open(0)
    const src = parseIp('10.0.0.1')
    const dst = parseIp('10.0.0.2')
    const tcpBytes = decodeIpv4(syn.data).payload
    const at = (data: Uint8Array, linkType = 101) => ({ ts: { sec: 0, nsec: 0 }, linkType, data, origLength: data.length })
    const { flows, tcpPackets, skipped } = reassembleCapture({
      packets: [
        at(syn.data),
        at(encodeIpv4({ protocol: 6, src, dst, moreFragments: true }, tcpBytes)), // first fragment
        at(encodeIpv4({ protocol: 6, src, dst, fragmentOffset: 100 }, new Uint8Array(8))), // a later one
        at(encodeIpv4({ protocol: 17, src, dst }, new Uint8Array(8))), // UDP
        at(concatBytes(new Uint8Array(12), Uint8Array.of(0x08, 0x06), new Uint8Array(28)), 1), // ARP on Ethernet
        at(syn.data, 147), // LINKTYPE_USER0
        at(Uint8Array.of(0x43, 0, 0, 20)), // IHL 3
      ],
    })
    expect(skipped).toEqual({ notIp: 1, notTcp: 1, fragments: 2, unsupportedLink: 1, malformed: 1 })
    expect([tcpPackets, flows.length]).toEqual([1, 1])
  })
})

// Re-split property over the real captures (lab.md §7 step 5): every direction of every committed
// capture, cut into chunks anywhere, must give the same TLS records and handshake messages as the
// stream read whole. Three layers:
//  - RecordReader fed chunk by chunk: every single split point (exhaustive), plus random multi-cuts;
//  - HandshakeReader fed the plaintext handshake bytes re-fragmented at random points (a message
//    split over records anywhere, as a sender may legally do, RFC 8446 §5.1);
//  - whole TCP: the streams re-segmented at random points into a synthesized pcap flow, then read
//    back through reassembleCapture + dissectTlsConversation.
// The reference is always our own unsplit reading; tshark agreement of that reading is
// captures/tshark-oracle.test.ts's job.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { dissectCommitted, listCaptures } from '../captures/check.js'
import { toHex } from '../src/wire/bytes.js'
import type { CapturedPacket } from '../src/wire/pcap/packet.js'
import { LinkType } from '../src/wire/pcap/link-type.js'
import { reassembleCapture } from '../src/wire/pcap/reassemble-capture.js'
import { TcpFlowSynth } from '../src/wire/pcap/tcp-synth.js'
import type { PcapRecord } from '../src/wire/pcap/writer.js'
import { dissectTlsConversation } from '../src/wire/tls/dissect.js'
import { HandshakeReader } from '../src/wire/tls/handshake-reader.js'
import { RecordReader } from '../src/wire/tls/record-reader.js'

const QUICK = process.env.SULTRY_QUICK === '1'
const RUNS = QUICK ? 300 : 10_000

interface Stream {
  label: string
  bytes: Uint8Array
  /** Record indices the unsplit dissection marked encrypted (their fragments are not handshakes). */
  encrypted: Set<number>
}

interface FlowPair {
  label: string
  toServer: Uint8Array
  toClient: Uint8Array
}

const streams: Stream[] = []
const flows: FlowPair[] = []
for (const name of listCaptures()) {
  for (const f of dissectCommitted(name).flows) {
    const label = `${name} flow ${f.flow.id}`
    flows.push({ label, toServer: f.flow.toServer.bytes, toClient: f.flow.toClient.bytes })
    streams.push({ label: `${label} client->server`, bytes: f.flow.toServer.bytes, encrypted: new Set(f.tls.client.records.filter((r) => r.encrypted).map((r) => r.index)) })
    streams.push({ label: `${label} server->client`, bytes: f.flow.toClient.bytes, encrypted: new Set(f.tls.server.records.filter((r) => r.encrypted).map((r) => r.index)) })
  }
}

/** Records and handshake messages read by the streaming readers from `chunks`, as comparable strings. */
function readStream(chunks: Uint8Array[], encrypted: Set<number>): { records: string[]; handshakes: string[] } {
  const reader = new RecordReader()
  const events = [...chunks.flatMap((c) => reader.push(c)), ...reader.end()]
  const records: string[] = []
  const handshakes: string[] = []
  const hs = new HandshakeReader()
  for (const ev of events) {
    if (ev.kind === 'error') {
      records.push(`error ${ev.error.code} @${ev.offset}`)
      continue
    }
    const index = records.length
    records.push(`${ev.offset} ${ev.record.type} ${ev.record.legacyVersion} ${toHex(ev.record.fragment)}`)
    if (ev.record.type !== 22 || encrypted.has(index)) continue
    for (const m of hs.push(ev.record.fragment, index)) {
      handshakes.push(m.kind === 'message' ? `${m.message.msgType} ${m.message.firstRecord}-${m.message.lastRecord} ${toHex(m.message.body)}` : `error ${m.error.code}`)
    }
  }
  return { records, handshakes }
}

const cutAt = (b: Uint8Array, cuts: number[]): Uint8Array[] => {
  const points = [...new Set(cuts)].filter((c) => c > 0 && c < b.length).sort((x, y) => x - y)
  const out: Uint8Array[] = []
  let at = 0
  for (const p of points) {
    out.push(b.subarray(at, p))
    at = p
  }
  out.push(b.subarray(at))
  return out
}

const reference = new Map(streams.map((s) => [s, readStream([s.bytes], s.encrypted)]))

describe('real captures re-split', () => {
  it('covers every capture, both directions, with records and handshakes to compare', () => {
    expect(streams.length).toBeGreaterThanOrEqual(12)
    for (const s of streams) expect(reference.get(s)!.records.length, s.label).toBeGreaterThan(0)
    expect(streams.filter((s) => reference.get(s)!.handshakes.length > 0).length).toBe(streams.length)
  })

  it('RecordReader/HandshakeReader: every two-chunk split of every stream reads the same', () => {
    let splits = 0
    for (const s of streams) {
      const want = JSON.stringify(reference.get(s))
      for (let cut = 1; cut < s.bytes.length; cut++) {
        const got = readStream([s.bytes.subarray(0, cut), s.bytes.subarray(cut)], s.encrypted)
        if (JSON.stringify(got) !== want) expect(got, `${s.label} split at ${cut}`).toEqual(reference.get(s))
        splits++
      }
    }
    expect(splits).toBeGreaterThan(15_000)
  })

  it('RecordReader/HandshakeReader: random multi-cuts read the same', () => {
    const arb = fc.integer({ min: 0, max: streams.length - 1 }).chain((i) =>
      fc.tuple(fc.constant(i), fc.array(fc.integer({ min: 1, max: Math.max(1, streams[i].bytes.length - 1) }), { maxLength: 200, size: 'max' })),
    )
    fc.assert(
      fc.property(arb, ([i, cuts]) => {
        const s = streams[i]
        expect(readStream(cutAt(s.bytes, cuts), s.encrypted)).toEqual(reference.get(s))
      }),
      { numRuns: RUNS },
    )
  })

  it('HandshakeReader: the plaintext handshake bytes re-fragmented into records anywhere give the same messages', () => {
    const plain = streams.map((s) => {
      const frags: Uint8Array[] = []
      const reader = new RecordReader()
      reader.push(s.bytes).forEach((ev, index) => {
        if (ev.kind === 'record' && ev.record.type === 22 && !s.encrypted.has(index)) frags.push(ev.record.fragment)
      })
      return Buffer.concat(frags)
    })
    const messages = (frags: Uint8Array[]): string[] => {
      const hs = new HandshakeReader()
      return frags.flatMap((f, i) => hs.push(f, i)).map((m) => (m.kind === 'message' ? `${m.message.msgType} ${toHex(m.message.raw)}` : `error ${m.error.code}`))
    }
    const want = plain.map((p) => messages([p]))
    expect(want.flat().length).toBeGreaterThan(0)
    const arb = fc.integer({ min: 0, max: streams.length - 1 }).chain((i) =>
      fc.tuple(fc.constant(i), fc.array(fc.integer({ min: 1, max: Math.max(1, plain[i].length - 1) }), { maxLength: 64, size: 'max' })),
    )
    fc.assert(
      fc.property(arb, ([i, cuts]) => {
        expect(messages(cutAt(plain[i], cuts))).toEqual(want[i])
      }),
      { numRuns: RUNS },
    )
  })

  it('TCP: streams re-segmented into a synthesized flow reassemble and dissect the same', () => {
    const toPackets = (recs: PcapRecord[]): CapturedPacket[] =>
      recs.map((r) => ({ ts: { sec: Math.floor(r.tsMicros / 1e6), nsec: (r.tsMicros % 1e6) * 1000 }, linkType: LinkType.RAW, data: r.data, origLength: r.data.length }))
    const want = flows.map((f) => dissectTlsConversation(f.toServer, f.toClient))
    const arb = fc.integer({ min: 0, max: flows.length - 1 }).chain((i) =>
      fc.record({
        i: fc.constant(i),
        c: fc.array(fc.integer({ min: 1, max: Math.max(1, flows[i].toServer.length - 1) }), { maxLength: 24, size: 'max' }),
        s: fc.array(fc.integer({ min: 1, max: Math.max(1, flows[i].toClient.length - 1) }), { maxLength: 24, size: 'max' }),
        isn: fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })),
      }),
    )
    fc.assert(
      fc.property(arb, ({ i, c, s, isn }) => {
        const f = flows[i]
        const synth = new TcpFlowSynth({ client: { addr: '10.0.0.1', port: 40000 }, server: { addr: '10.0.0.2', port: 443 }, clientIsn: isn[0], serverIsn: isn[1], mss: 65000 })
        let ts = 1_000_000
        const recs = [...synth.open(ts)]
        for (const chunk of cutAt(f.toServer, c)) recs.push(...synth.data('c2s', chunk, ++ts))
        for (const chunk of cutAt(f.toClient, s)) recs.push(...synth.data('s2c', chunk, ++ts))
        const { flows: got } = reassembleCapture({ packets: toPackets(recs) })
        expect(got.length).toBe(1)
        expect(toHex(got[0].toServer.bytes)).toBe(toHex(f.toServer))
        expect(toHex(got[0].toClient.bytes)).toBe(toHex(f.toClient))
        expect(dissectTlsConversation(got[0].toServer.bytes, got[0].toClient.bytes)).toEqual(want[i])
      }),
      { numRuns: QUICK ? 100 : 1000 },
    )
  })
})

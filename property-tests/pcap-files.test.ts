import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WireError } from '../src/wire/bytes.js'
import { readCapture } from '../src/wire/pcap/capture.js'
import { encodeClassicPcap, readClassicPcap, type ClassicHeader } from '../src/wire/pcap/classic.js'
import { ClassicPcapStream } from '../src/wire/pcap/classic-stream.js'
import type { CapturedPacket } from '../src/wire/pcap/packet.js'
import { readPcapng } from '../src/wire/pcap/pcapng.js'
import { encodePcapng, type PcapngBlockSpec, type PcapngSectionSpec } from '../src/wire/pcap/pcapng-writer.js'
import { TcpFlowSynth } from '../src/wire/pcap/tcp-synth.js'
import { PcapWriter } from '../src/wire/pcap/writer.js'
import { tshark } from './pcap-tshark.js'

const RUNS = process.env.SULTRY_QUICK === '1' ? 300 : 10_000
const dir = mkdtempSync(join(tmpdir(), 'sultry-pcap-files-'))
const require = createRequire(import.meta.url)
const pcapParser = require('pcap-parser') as { parse(input: Readable): NodeJS.EventEmitter }

const u32 = fc.integer({ min: 0, max: 0xffffffff })
const byteOrder = fc.constantFrom('big' as const, 'little' as const)

// ---------------------------------------------------------------- classic

const classicFile = fc
  .record({
    byteOrder,
    nanos: fc.boolean(),
    versionMajor: fc.constant(2),
    versionMinor: fc.integer({ min: 0, max: 0xffff }),
    snaplen: u32,
    linkType: fc.integer({ min: 0, max: 0xffff }),
    fcs: fc.integer({ min: 0, max: 0xffff }),
  })
  .chain((h) =>
    fc
      .array(
        fc.record({
          sec: u32,
          frac: fc.integer({ min: 0, max: h.nanos ? 999_999_999 : 999_999 }),
          data: fc.uint8Array({ maxLength: 300, size: 'max' }),
          extra: fc.integer({ min: 0, max: 70000 }),
        }),
        { maxLength: 12 },
      )
      .map((ps) => ({
        header: h as Omit<ClassicHeader, 'thiszone' | 'sigfigs'>,
        packets: ps.map(
          (p): CapturedPacket => ({ ts: { sec: p.sec, nsec: h.nanos ? p.frac : p.frac * 1000 }, linkType: h.linkType, data: p.data, origLength: p.data.length + p.extra }),
        ),
      })),
  )

function expectOnlyWireErrors(fn: () => { error?: unknown }): void {
  try {
    const r = fn()
    if (r.error !== undefined) expect(r.error).toBeInstanceOf(WireError)
  } catch (e) {
    if (!(e instanceof WireError)) throw e
  }
}

function mutate(b: Uint8Array, edits: [number, number][], cut: number | null): Uint8Array {
  const out = b.slice()
  for (const [at, v] of edits) if (out.length) out[at % out.length] = v
  return cut === null ? out : out.subarray(0, cut % (out.length + 1))
}
const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })
const cut = fc.option(fc.nat())

describe('classic pcap reader', () => {
  it('round-trips any file: µs and ns, both byte orders, caplen vs origlen', () => {
    fc.assert(
      fc.property(classicFile, ({ header, packets }) => {
        const r = readClassicPcap(encodeClassicPcap(header, packets))
        expect(r.error).toBeUndefined()
        expect(r.header).toEqual({ ...header, thiszone: 0, sigfigs: 0 })
        expect(r.packets).toEqual(packets)
      }),
      { numRuns: RUNS / 10 },
    )
  })

  it('returns the good packets and a truncated error when the last record is cut', () => {
    fc.assert(
      fc.property(classicFile.filter((f) => f.packets.length > 0), fc.nat(), ({ header, packets }, n) => {
        const bytes = encodeClassicPcap(header, packets)
        const lastLen = 16 + packets[packets.length - 1].data.length
        const cutBy = 1 + (n % (lastLen - 1)) // cutting the whole record would leave a clean file
        const r = readClassicPcap(bytes.subarray(0, bytes.length - cutBy))
        expect(r.packets).toEqual(packets.slice(0, -1))
        expect(r.error).toBeInstanceOf(WireError)
        expect(r.error?.code).toBe('truncated')
        expect(r.error?.needed).toBe(cutBy <= packets[packets.length - 1].data.length ? cutBy : cutBy - packets[packets.length - 1].data.length)
      }),
      { numRuns: RUNS / 10 },
    )
  })

  it('throws or reports only WireError on random and mutated files', () => {
    const magics = [[0xa1, 0xb2, 0xc3, 0xd4], [0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d], [0x4d, 0x3c, 0xb2, 0xa1]]
    const random = fc.tuple(fc.constantFrom(...magics), fc.uint8Array({ maxLength: 200, size: 'max' })).map(([m, b]) => Uint8Array.from([...m, ...b]))
    const mutated = fc.tuple(classicFile, edits, cut).map(([f, e, c]) => mutate(encodeClassicPcap(f.header, f.packets), e, c))
    fc.assert(fc.property(fc.oneof(random, mutated, fc.uint8Array({ maxLength: 40 })), (b) => expectOnlyWireErrors(() => readCapture(b))), { numRuns: RUNS })
  })

  it('agrees with pcap-parser packet for packet (µs files, both byte orders)', async () => {
    const files = fc.sample(classicFile.filter((f) => !f.header.nanos && f.header.versionMinor === 4), { numRuns: 30, seed: 7 })
    files.push({ header: { byteOrder: 'big', nanos: false, versionMajor: 2, versionMinor: 4, snaplen: 262144, linkType: 101, fcs: 0 }, packets: readCapture(synthFile()).packets })
    for (const f of files) {
      const bytes = encodeClassicPcap(f.header, f.packets)
      const theirs = await parseWithPcapParser(bytes)
      const ours = readClassicPcap(bytes)
      expect(streamed(bytes, [7, 50, 51, 300]).packets).toEqual(ours.packets)
      expect(theirs.linkType >>> 0).toBe(ours.header.linkType + ours.header.fcs * 0x10000)
      expect(theirs.packets.length).toBe(ours.packets.length)
      theirs.packets.forEach((p, i) => {
        const o = ours.packets[i]
        expect([p.header.timestampSeconds, p.header.timestampMicroseconds * 1000, p.header.capturedLength, p.header.originalLength]).toEqual([o.ts.sec, o.ts.nsec, o.data.length, o.origLength])
        expect(new Uint8Array(p.data)).toEqual(o.data)
      })
    }
  })
})

/** Feeds `bytes` to a ClassicPcapStream cut at `cuts`; returns its packets and end() error. */
function streamed(bytes: Uint8Array, cutPoints: number[], maxRecord?: number): { packets: CapturedPacket[]; error?: WireError } {
  const points = [...new Set(cutPoints.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const bounds = [0, ...points, bytes.length]
  const st = new ClassicPcapStream(maxRecord === undefined ? {} : { maxRecord })
  const packets: CapturedPacket[] = []
  try {
    for (let i = 1; i < bounds.length; i++) packets.push(...st.push(bytes.subarray(bounds[i - 1], bounds[i])))
  } catch (e) {
    if (e instanceof WireError) return { packets, error: e }
    throw e
  }
  const error = st.end()
  return error ? { packets, error } : { packets }
}

describe('classic pcap, streamed', () => {
  const chunkCuts = fc.array(fc.nat(), { maxLength: 20 })

  it('gives the same packets and the same error as the whole-file reader, however chunked', () => {
    fc.assert(
      fc.property(classicFile, chunkCuts, fc.option(fc.nat()), ({ header, packets }, cuts, cutEnd) => {
        const full = encodeClassicPcap(header, packets)
        const bytes = cutEnd === null ? full : full.subarray(0, Math.max(24, cutEnd % (full.length + 1)))
        const whole = readClassicPcap(bytes)
        const st = streamed(bytes, cuts)
        expect(st.packets).toEqual(whole.packets)
        expect([st.error?.code, st.error?.needed]).toEqual([whole.error?.code, whole.error?.needed])
      }),
      { numRuns: RUNS / 10 },
    )
  })

  it('refuses a record larger than maxRecord instead of buffering it, and reports only WireError', () => {
    const big = encodeClassicPcap({ byteOrder: 'big', nanos: false, versionMajor: 2, versionMinor: 4, snaplen: 65535, linkType: 1, fcs: 0 }, [{ ts: { sec: 1, nsec: 0 }, linkType: 1, data: new Uint8Array(5000), origLength: 5000 }])
    const r = streamed(big.subarray(0, 24 + 16 + 10), [30], 4096)
    expect(r.error?.code).toBe('too-large')
    const magics = [[0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1]]
    const random = fc.tuple(fc.constantFrom(...magics), fc.uint8Array({ maxLength: 200, size: 'max' })).map(([m, b]) => Uint8Array.from([...m, ...b]))
    fc.assert(
      fc.property(fc.oneof(random, fc.uint8Array({ maxLength: 40 })), chunkCuts, (b, cuts) => {
        streamed(b, cuts, 1000) // streamed() rethrows anything that is not a WireError
      }),
      { numRuns: RUNS },
    )
  })
})

async function parseWithPcapParser(bytes: Uint8Array): Promise<{ linkType: number; packets: { header: Record<string, number>; data: Buffer }[] }> {
  return new Promise((resolve, reject) => {
    const parser = pcapParser.parse(Readable.from([Buffer.from(bytes)]))
    const packets: { header: Record<string, number>; data: Buffer }[] = []
    let linkType = -1
    parser.on('globalHeader', (h: { linkLayerType: number }) => (linkType = h.linkLayerType))
    parser.on('packet', (p: { header: Record<string, number>; data: Buffer }) => packets.push(p))
    parser.on('end', () => resolve({ linkType, packets }))
    parser.on('error', reject)
  })
}

function synthFile(): Uint8Array {
  const f = new TcpFlowSynth({ client: { addr: '10.1.1.1', port: 5555 }, server: { addr: '10.1.1.2', port: 80 }, clientIsn: 100, serverIsn: 200, mss: 500 })
  const recs = [...f.open(1_700_000_000_123_456), ...f.data('c2s', new Uint8Array(1200).fill(7), 1_700_000_000_200_000), ...f.data('s2c', new Uint8Array(99).fill(9), 1_700_000_001_000_001), ...f.fin('c2s', 1_700_000_002_000_000)]
  return new PcapWriter().file(recs)
}

// ---------------------------------------------------------------- pcapng

interface NgCase {
  sections: PcapngSectionSpec[]
  expected: CapturedPacket[]
}

const tsresol = fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0x80, max: 0x80 + 40 }))

const ngSection = fc
  .record({
    byteOrder,
    interfaces: fc.array(
      fc.record({ linkType: fc.integer({ min: 0, max: 0xffff }), snaplen: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 })), tsresol, tsoffset: fc.option(fc.bigInt({ min: -1000n, max: 1000n }), { nil: undefined }) }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .chain((s) =>
    fc
      .array(
        fc.oneof(
          fc.record({ kind: fc.constantFrom('epb' as const, 'opb' as const), interfaceId: fc.integer({ min: 0, max: s.interfaces.length - 1 }), units: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), data: fc.uint8Array({ maxLength: 200, size: 'max' }), extra: fc.nat(1000) }),
          fc.record({ kind: fc.constant('spb' as const), data: fc.uint8Array({ maxLength: 200, size: 'max' }) }),
          fc.record({ kind: fc.constant('other' as const), blockType: fc.constantFrom(4, 5, 0x0a, 0x80000001, 0x40000000), words: fc.integer({ min: 0, max: 8 }) }),
        ),
        { maxLength: 8 },
      )
      .map((blocks) => ({ ...s, blocks })),
  )

/** Expected timestamps straight from the draft's definition: units × resolution, plus tsoffset. */
function expectedTs(resol: number | undefined, offset: bigint | undefined, units: bigint): { sec: number; nsec: number } {
  const r = resol ?? 6
  const per = r & 0x80 ? 2n ** BigInt(r & 0x7f) : 10n ** BigInt(r)
  return { sec: Number(units / per + (offset ?? 0n)), nsec: Number(((units % per) * 10n ** 9n) / per) }
}

const ngFile: fc.Arbitrary<NgCase> = fc.array(ngSection, { minLength: 1, maxLength: 3 }).map((secs) => {
  const expected: CapturedPacket[] = []
  const sections: PcapngSectionSpec[] = secs.map((s) => {
    const blocks: PcapngBlockSpec[] = []
    for (const b of s.blocks) {
      if (b.kind === 'other') {
        blocks.push({ kind: 'other', blockType: b.blockType, body: new Uint8Array(4 * b.words).fill(0xee) })
      } else if (b.kind === 'spb') {
        // An SPB's captured length is min(original length, snaplen of interface 0).
        const snap = s.interfaces[0].snaplen
        const data = snap !== 0 && b.data.length > snap ? b.data.subarray(0, snap) : b.data
        blocks.push({ kind: 'spb', data, origLength: b.data.length })
        expected.push({ ts: { sec: 0, nsec: 0 }, linkType: s.interfaces[0].linkType, data, origLength: b.data.length, interfaceId: 0 })
      } else {
        const i = s.interfaces[b.interfaceId]
        blocks.push({ kind: b.kind, interfaceId: b.interfaceId, units: b.units, data: b.data, origLength: b.data.length + b.extra })
        expected.push({ ts: expectedTs(i.tsresol, i.tsoffset, b.units), linkType: i.linkType, data: b.data, origLength: b.data.length + b.extra, interfaceId: b.interfaceId })
      }
    }
    return { byteOrder: s.byteOrder, interfaces: s.interfaces, blocks }
  })
  return { sections, expected }
})

describe('pcapng reader', () => {
  it('round-trips sections, interfaces, if_tsresol (10^-n, 2^-n), EPB/SPB/OPB, skipping unknown blocks', () => {
    fc.assert(
      fc.property(ngFile, ({ sections, expected }) => {
        const r = readPcapng(encodePcapng(sections))
        expect(r.error).toBeUndefined()
        expect(r.packets).toEqual(expected)
        expect(r.header.sections.map((s) => s.byteOrder)).toEqual(sections.map((s) => s.byteOrder))
        expect(r.header.skippedBlocks).toBe(sections.flatMap((s) => s.blocks).filter((b) => b.kind === 'other').length)
      }),
      { numRuns: RUNS / 10 },
    )
  })

  it('checks Block Total Length at both ends', () => {
    const bytes = encodePcapng([{ byteOrder: 'little', interfaces: [{ linkType: 101, snaplen: 0 }], blocks: [{ kind: 'epb', interfaceId: 0, units: 5n, data: Uint8Array.of(0x45), origLength: 1 }] }])
    expect(readPcapng(bytes).packets.length).toBe(1)
    const bad = bytes.slice()
    bad[bad.length - 4] ^= 4 // trailing length of the EPB
    const r = readPcapng(bad)
    expect(r.packets).toEqual([])
    expect(r.error?.code).toBe('bad-length')
    const cutShort = readPcapng(bytes.subarray(0, bytes.length - 2))
    expect(cutShort.error?.code).toBe('truncated')
    expect(() => readPcapng(bytes.subarray(0, 10))).toThrow(WireError)
  })

  it('throws or reports only WireError on random and mutated files', () => {
    const shb = [0x0a, 0x0d, 0x0d, 0x0a]
    const random = fc.uint8Array({ maxLength: 200, size: 'max' }).map((b) => Uint8Array.from([...shb, ...b]))
    const mutated = fc.tuple(ngFile, edits, cut).map(([f, e, c]) => mutate(encodePcapng(f.sections), e, c))
    fc.assert(fc.property(fc.oneof(random, mutated), (b) => expectOnlyWireErrors(() => readCapture(b))), { numRuns: RUNS })
  })

  it('reads what tshark reads: timestamps and lengths for our pcapng files', () => {
    // Fixed-resolution interfaces across two sections of opposite byte order.
    const sections: PcapngSectionSpec[] = [
      {
        byteOrder: 'little',
        interfaces: [{ linkType: 101, snaplen: 0, tsresol: 9 }, { linkType: 101, snaplen: 0, tsresol: 0x80 + 20 }],
        blocks: [
          { kind: 'epb', interfaceId: 0, units: 1_700_000_000_123_456_789n, data: synthPacket(), origLength: synthPacket().length },
          { kind: 'other', blockType: 0x0bad, body: new Uint8Array(8) },
          { kind: 'epb', interfaceId: 1, units: (1_700_000_001n << 20n) + 12345n, data: synthPacket(), origLength: synthPacket().length + 10 },
        ],
      },
      {
        byteOrder: 'big',
        interfaces: [{ linkType: 101, snaplen: 0, tsresol: 3 }],
        blocks: [
          { kind: 'epb', interfaceId: 0, units: 1_700_000_002_999n, data: synthPacket(), origLength: synthPacket().length },
          { kind: 'opb', interfaceId: 0, units: 1_700_000_003_001n, data: synthPacket(), origLength: synthPacket().length },
        ],
      },
    ]
    const file = join(dir, 'ours.pcapng')
    writeFileSync(file, encodePcapng(sections))
    const ours = readPcapng(new Uint8Array(readFileSync(file)))
    expect(ours.error).toBeUndefined()
    const rows = tshark(['-r', file, '-T', 'fields', '-E', 'separator=,', '-e', 'frame.time_epoch', '-e', 'frame.cap_len', '-e', 'frame.len']).trim().split('\n')
      // Wireshark 4.0 lists the unknown block as a record of its own with no timestamp.
      .filter((row) => !row.startsWith(','))
    expect(rows.length).toBe(ours.packets.length)
    rows.forEach((row, i) => {
      const [epoch, cap, len] = row.split(',')
      const [sec, frac = ''] = epoch.split('.')
      const p = ours.packets[i]
      expect([Number(sec), Number(frac.padEnd(9, '0')), Number(cap), Number(len)]).toEqual([p.ts.sec, p.ts.nsec, p.data.length, p.origLength])
    })
  })
})

function synthPacket(): Uint8Array {
  const f = new TcpFlowSynth({ client: { addr: '10.9.9.1', port: 1 }, server: { addr: '10.9.9.2', port: 2 }, clientIsn: 1, serverIsn: 2 })
  return f.open(0)[0].data
}

// ---------------------------------------------------------------- both formats, via editcap

describe('readCapture on editcap conversions', () => {
  it('gives the same packets from classic µs, classic ns and pcapng', () => {
    const src = join(dir, 'synth.pcap')
    writeFileSync(src, synthFile())
    const base = readCapture(new Uint8Array(readFileSync(src)))
    expect(base.format).toBe('pcap')
    expect(base.packets.length).toBe(11)
    for (const [fmt, want] of [['pcapng', 'pcapng'], ['nsecpcap', 'pcap']] as const) {
      const out = join(dir, `synth.${fmt}`)
      execFileSync('editcap', ['-F', fmt, src, out])
      const c = readCapture(new Uint8Array(readFileSync(out)))
      expect(c.format).toBe(want)
      expect(c.error).toBeUndefined()
      expect(c.packets.map(({ ts, linkType, data, origLength }) => ({ ts, linkType, data, origLength }))).toEqual(
        base.packets.map(({ ts, linkType, data, origLength }) => ({ ts, linkType, data, origLength })),
      )
    }
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WireError, fromHex, toHex } from '../src/wire/bytes.js'
import { formatIp, formatIpv6, parseIp, parseIpv6 } from '../src/wire/ip/address.js'
import { internetChecksum } from '../src/wire/ip/checksum.js'
import { decodeIp } from '../src/wire/ip/ip.js'
import { decodeIpv4, encodeIpv4 } from '../src/wire/ip/ipv4.js'
import { decodeIpv6, encodeIpv6, type Ipv6Extension } from '../src/wire/ip/ipv6.js'
import { TcpFlag, decodeTcp, encodeTcp, flagNames, tcpChecksum } from '../src/wire/ip/tcp.js'

const RUNS = process.env.SULTRY_QUICK === '1' ? 300 : 10_000

const u8 = fc.integer({ min: 0, max: 0xff })
const u16 = fc.integer({ min: 0, max: 0xffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const v4addr = fc.uint8Array({ minLength: 4, maxLength: 4 })
const v6addr = fc.uint8Array({ minLength: 16, maxLength: 16 })
const words = (max: number) => fc.integer({ min: 0, max }).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n }))

/** Only WireError may escape; anything else fails the property. */
function onlyWireError(fn: () => unknown): void {
  try {
    fn()
  } catch (e) {
    if (!(e instanceof WireError)) throw e
  }
}

/** A valid input with a few bytes changed, cut, or extended. */
function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(valid, fc.array(fc.tuple(fc.nat(), u8), { maxLength: 4 }), fc.nat(), fc.boolean())
    .map(([b, edits, cut, doCut]) => {
      const out = b.slice()
      for (const [at, v] of edits) if (out.length) out[at % out.length] = v
      return doCut ? out.subarray(0, cut % (out.length + 1)) : out
    })
}

describe('Internet checksum', () => {
  // Wikipedia, "Internet checksum" / IPv4 header checksum example: the header
  // 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7 carries checksum 0xb861.
  it('matches the textbook IPv4 header example', () => {
    const header = fromHex('450000730000400040110000c0a80001c0a800c7')
    expect(internetChecksum(header).toString(16)).toBe('b861')
    const filled = fromHex('45000073000040004011b861c0a80001c0a800c7')
    expect(internetChecksum(filled)).toBe(0)
    expect(decodeIpv4(filled).checksumValid).toBe(true)
  })
})

describe('IPv4', () => {
  const fields = fc.record({
    dscp: fc.integer({ min: 0, max: 63 }),
    ecn: fc.integer({ min: 0, max: 3 }),
    identification: u16,
    reservedFlag: fc.boolean(),
    dontFragment: fc.boolean(),
    moreFragments: fc.boolean(),
    fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
    ttl: u8,
    protocol: u8,
    src: v4addr,
    dst: v4addr,
    options: words(10),
  })
  // Payload bytes are opaque to these codecs; 400 keeps 10k-run suites fast while lengths vary.
  const payload = fc.uint8Array({ maxLength: 400, size: 'max' })

  it('round-trips any header and payload, with a valid header checksum', () => {
    fc.assert(
      fc.property(fields, payload, (f, p) => {
        const bytes = encodeIpv4(f, p)
        const d = decodeIpv4(bytes)
        const { version, ihl, totalLength, headerChecksum, ...rest } = d.header
        expect(rest).toEqual(f)
        expect([version, ihl, totalLength]).toEqual([4, 5 + f.options.length / 4, bytes.length])
        expect(d.checksumValid).toBe(true)
        expect(d.payload).toEqual(p)
        expect(d.truncated).toBe(false)
        expect(d.fragment).toBe(f.moreFragments || f.fragmentOffset !== 0)
        // Link-layer padding after Total Length is not payload; a short capture is flagged.
        expect(decodeIpv4(new Uint8Array([...bytes, 0, 0, 0])).payload).toEqual(p)
        if (p.length > 0) expect(decodeIpv4(bytes.subarray(0, bytes.length - 1)).truncated).toBe(true)
      }),
      { numRuns: RUNS / 4 },
    )
  })

  it('throws only WireError on random and mutated input', () => {
    const valid = fc.tuple(fields, payload).map(([f, p]) => encodeIpv4(f, p))
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 80, size: 'max' }), mutated(valid)), (b) => onlyWireError(() => decodeIpv4(b))), { numRuns: RUNS })
  })

  it('rejects what RFC 791 forbids', () => {
    const ok = encodeIpv4({ protocol: 6, src: Uint8Array.of(1, 2, 3, 4), dst: Uint8Array.of(5, 6, 7, 8) }, new Uint8Array(4))
    const code = (b: Uint8Array): string => {
      try {
        decodeIpv4(b)
        return 'ok'
      } catch (e) {
        return (e as WireError).code
      }
    }
    expect(code(ok)).toBe('ok')
    expect(code(Uint8Array.from([0x44, ...ok.subarray(1)]))).toBe('bad-length') // IHL 4
    expect(code(Uint8Array.from([0x65, ...ok.subarray(1)]))).toBe('bad-value') // version 6
    expect(code(ok.subarray(0, 19))).toBe('truncated')
    const shortTotal = ok.slice()
    shortTotal[3] = 19 // Total Length below the header
    expect(code(shortTotal)).toBe('bad-length')
    const bad = ok.slice()
    bad[8] ^= 1 // TTL changed, checksum not
    expect(decodeIpv4(bad).checksumValid).toBe(false)
    const addr = Uint8Array.of(1, 2, 3, 4)
    expect(encodeIpv4({ protocol: 6, src: addr, dst: addr }, new Uint8Array(0xffff - 20)).length).toBe(0xffff)
    expect(() => encodeIpv4({ protocol: 6, src: addr, dst: addr }, new Uint8Array(0xffff - 19))).toThrow(expect.objectContaining({ code: 'too-large' }))
  })
})

describe('IPv6', () => {
  const optsExt = (type: number) =>
    fc.integer({ min: 0, max: 3 }).chain((n) => fc.uint8Array({ minLength: 6 + 8 * n, maxLength: 6 + 8 * n }).map((b): Ipv6Extension => ({ type, data: Uint8Array.from([n, ...b]) })))
  const fragExt = (first: boolean) =>
    fc.tuple(fc.integer({ min: first ? 0 : 1, max: first ? 0 : 0x1fff }), fc.boolean(), u32).map(([off, more, id]): Ipv6Extension => ({
      type: 44,
      data: Uint8Array.from([0, off >> 5, ((off << 3) & 0xf8) | (more ? 1 : 0), id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]),
    }))
  const chain = fc.oneof(
    fc.array(fc.oneof(optsExt(0), optsExt(43), optsExt(60), fragExt(true)), { maxLength: 4 }),
    // A later fragment ends the walk: nothing after it is interpreted.
    fc.array(fc.oneof(optsExt(0), optsExt(60)), { maxLength: 2 }).chain((pre) => fragExt(false).map((f) => [...pre, f])),
  )
  const fields = fc.record({
    trafficClass: u8,
    flowLabel: fc.integer({ min: 0, max: 0xfffff }),
    hopLimit: u8,
    src: v6addr,
    dst: v6addr,
    extensions: chain,
    protocol: fc.constantFrom(6, 17, 59, 58, 1, 250),
  })
  // Payload bytes are opaque to these codecs; 400 keeps 10k-run suites fast while lengths vary.
  const payload = fc.uint8Array({ maxLength: 400, size: 'max' })

  it('round-trips header, extension chain and payload', () => {
    fc.assert(
      fc.property(fields, payload, (f, p) => {
        const bytes = encodeIpv6(f, p)
        const d = decodeIpv6(bytes)
        expect(d.header.trafficClass).toBe(f.trafficClass)
        expect(d.header.flowLabel).toBe(f.flowLabel)
        expect(d.header.hopLimit).toBe(f.hopLimit)
        expect(d.header.src).toEqual(f.src)
        expect(d.header.dst).toEqual(f.dst)
        expect(d.header.payloadLength).toBe(bytes.length - 40)
        expect(d.extensions).toEqual(f.extensions)
        expect(d.protocol).toBe(f.protocol)
        expect(d.payload).toEqual(p)
        const frag = f.extensions.findLast((e) => e.type === 44)
        expect(d.fragment !== undefined).toBe(frag !== undefined)
        if (frag) expect(d.fragment?.identification).toBe(new DataView(frag.data.buffer, frag.data.byteOffset).getUint32(3))
      }),
      { numRuns: RUNS / 4 },
    )
  })

  it('throws only WireError on random and mutated input', () => {
    const valid = fc.tuple(fields, payload).map(([f, p]) => encodeIpv6(f, p))
    const random = fc.uint8Array({ maxLength: 120, size: 'max' }).map((b) => (b.length ? Uint8Array.from([0x60 | (b[0] & 0x0f), ...b.subarray(1)]) : b))
    fc.assert(fc.property(fc.oneof(random, mutated(valid)), (b) => onlyWireError(() => decodeIpv6(b))), { numRuns: RUNS })
  })

  it('flags an extension header that runs past Payload Length', () => {
    // Hop-by-hop header claiming 16 bytes inside an 8-byte payload.
    const b = encodeIpv6({ src: new Uint8Array(16), dst: new Uint8Array(16), protocol: 0 }, Uint8Array.of(6, 1, 0, 0, 0, 0, 0, 0))
    expect(() => decodeIpv6(b)).toThrow(expect.objectContaining({ code: 'bad-length' }))
  })
})

describe('TCP', () => {
  const fields = fc.record({
    srcPort: u16,
    dstPort: u16,
    seq: u32,
    ack: u32,
    reserved: fc.integer({ min: 0, max: 15 }),
    flags: u8,
    window: u16,
    urgentPointer: u16,
    options: words(10),
    payload: fc.uint8Array({ maxLength: 400, size: 'max' }),
  })
  const pseudo = fc.oneof(fc.record({ src: v4addr, dst: v4addr }), fc.record({ src: v6addr, dst: v6addr }))

  it('round-trips any segment, and the checksum verifies over either pseudo-header', () => {
    fc.assert(
      fc.property(fields, pseudo, (f, ip) => {
        const bytes = encodeTcp(f, ip)
        const { dataOffset, checksum, ...rest } = decodeTcp(bytes)
        expect(rest).toEqual(f)
        expect(dataOffset).toBe(5 + f.options.length / 4)
        expect(tcpChecksum(ip, bytes)).toBe(checksum)
        // Summing the whole segment, checksum included, over the pseudo-header gives zero:
        // the receiver-side check of RFC 9293 §3.1.
        const ph = ip.src.length === 4
          ? Uint8Array.from([...ip.src, ...ip.dst, 0, 6, bytes.length >> 8, bytes.length & 0xff])
          : Uint8Array.from([...ip.src, ...ip.dst, 0, 0, bytes.length >> 8, bytes.length & 0xff, 0, 0, 0, 6])
        expect(internetChecksum(Uint8Array.from([...ph, ...bytes]))).toBe(0)
      }),
      { numRuns: RUNS / 4 },
    )
  })

  it('throws only WireError on random and mutated input', () => {
    const valid = fc.tuple(fields, pseudo).map(([f, ip]) => encodeTcp(f, ip))
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 80, size: 'max' }), mutated(valid)), (b) => onlyWireError(() => decodeTcp(b))), { numRuns: RUNS })
  })

  it('names flags as RFC 9293 / RFC 3168 do', () => {
    expect(flagNames(TcpFlag.SYN | TcpFlag.ACK)).toBe('ACK|SYN')
    expect(flagNames(0xff)).toBe('CWR|ECE|URG|ACK|PSH|RST|SYN|FIN')
    expect(() => decodeTcp(fromHex('0001000200000000000000004000ffff00000000'))).toThrow(expect.objectContaining({ code: 'bad-length' }))
  })

  // A segment captured by tshark from the writer suite: SYN 10.0.0.1:40000 -> 192.0.2.7:443,
  // seq 0xfffff000, window 65535, no options; tshark 4.0.17 reported tcp.checksum 0x55de, status good.
  it('matches a checksum Wireshark verified', () => {
    const seg = encodeTcp({ srcPort: 40000, dstPort: 443, seq: 0xfffff000, ack: 0, flags: TcpFlag.SYN, window: 65535 }, { src: parseIp('10.0.0.1'), dst: parseIp('192.0.2.7') })
    expect(toHex(seg.subarray(16, 18))).toBe('55de')
  })
})

describe('any IP version', () => {
  it('decodes either version and throws only WireError on anything', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100, size: 'max' }), (b) => onlyWireError(() => decodeIp(b))), { numRuns: RUNS })
  })
})

describe('IP address text', () => {
  // RFC 5952 §4 examples and rules.
  it.each([
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3: first of equal-length runs
    ['2001:0db8:0:0:0:0:2:1', '2001:db8::2:1'], // §4.1 leading zeros, §4.2.1 longest run
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2: one zero group stays
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // §4.2.3: longest run wins
    ['2001:DB8::1', '2001:db8::1'], // §4.3 lowercase
    ['::', '::'],
    ['::1', '::1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // §5: IPv4-mapped keeps the dotted tail
    ['::ffff:c000:0201', '::ffff:192.0.2.1'], // the same address written in hex
    ['::fffe:c000:201', '::fffe:c000:201'], // not IPv4-mapped
  ])('%s -> %s', (input, want) => {
    expect(formatIpv6(parseIpv6(input))).toBe(want)
  })

  it('agrees with the WHATWG URL serializer (also RFC 5952 compression) and round-trips', () => {
    // Mostly-zero groups so runs of zeros of every length and position occur.
    const group = fc.oneof(fc.constant(0), fc.constant(0), u16)
    const addr = fc.array(group, { minLength: 8, maxLength: 8 }).map((g) => Uint8Array.from(g.flatMap((x) => [x >> 8, x & 0xff])))
    fc.assert(
      fc.property(addr, (a) => {
        const text = formatIp(a)
        expect(parseIp(text)).toEqual(a)
        // URL prints IPv4-mapped addresses in hex (WHATWG has no §5 rule); all else must agree.
        if (!text.startsWith('::ffff:') || !text.includes('.')) expect(`[${text}]`).toBe(new URL(`http://[${text}]/`).hostname)
      }),
      { numRuns: RUNS / 10 },
    )
    fc.assert(fc.property(v4addr, (a) => {
      expect(parseIp(formatIp(a))).toEqual(a)
    }), { numRuns: RUNS / 10 })
  })

  it('rejects malformed text with WireError', () => {
    for (const t of ['1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::', '1:2:3:4:5:6:7::8']) {
      expect(() => parseIp(t)).toThrow(WireError)
    }
  })
})

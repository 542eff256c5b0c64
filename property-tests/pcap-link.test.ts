import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WireError, concatBytes, fromHex } from '../src/wire/bytes.js'
import { formatIp } from '../src/wire/ip/address.js'
import { decodeIp } from '../src/wire/ip/ip.js'
import { decodeIpv6, encodeIpv6, type Ipv6Extension } from '../src/wire/ip/ipv6.js'
import { encodeTcp, TcpFlag } from '../src/wire/ip/tcp.js'
import { decodeTcp } from '../src/wire/ip/tcp.js'
import { decodeLink } from '../src/wire/pcap/link.js'
import { LinkType } from '../src/wire/pcap/link-type.js'
import { TcpFlowSynth } from '../src/wire/pcap/tcp-synth.js'
import { PcapWriter } from '../src/wire/pcap/writer.js'
import { tshark } from './pcap-tshark.js'

const RUNS = process.env.SULTRY_QUICK === '1' ? 300 : 10_000
const dir = mkdtempSync(join(tmpdir(), 'sultry-pcap-link-'))

function packets(addrC: string, addrS: string): Uint8Array[] {
  const f = new TcpFlowSynth({ client: { addr: addrC, port: 40001 }, server: { addr: addrS, port: 8443 }, clientIsn: 1, serverIsn: 2 })
  return [...f.open(0), ...f.data('c2s', Uint8Array.of(1, 2, 3), 10)].map((r) => r.data)
}
const v4 = packets('198.51.100.1', '198.51.100.2')
const v6 = packets('2001:db8::a', '2001:db8::b')

const mac = fromHex('020000000001020000000002')
const ether = (type: string, tags: string, ip: Uint8Array): Uint8Array => concatBytes(mac, fromHex(tags + type), ip)
// LINKTYPE_LINUX_SLL (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html): packet type 0 (to us),
// ARPHRD_ETHER 1, address length 6, 8 address bytes, protocol type.
const sll = (type: string, ip: Uint8Array): Uint8Array => concatBytes(fromHex('0000' + '0001' + '0006' + '0200000000010000' + type), ip)
// LINKTYPE_LINUX_SLL2 (…/LINKTYPE_LINUX_SLL2.html): protocol type, reserved, interface index,
// ARPHRD type, packet type, address length, 8 address bytes.
const sll2 = (type: string, ip: Uint8Array): Uint8Array => concatBytes(fromHex(type + '0000' + '00000001' + '0001' + '00' + '06' + '0200000000010000'), ip)
// LINKTYPE_NULL: the AF_ value in the capturing host's byte order (2 = AF_INET, 30 = macOS AF_INET6).
const nullLe = (af: number, ip: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(af, 0, 0, 0), ip)
const nullBe = (af: number, ip: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(0, 0, 0, af), ip)

const cases: [string, number, (ip: Uint8Array, v: 4 | 6) => Uint8Array][] = [
  ['Ethernet', LinkType.ETHERNET, (ip, v) => ether(v === 4 ? '0800' : '86dd', '', ip)],
  ['Ethernet + 802.1Q', LinkType.ETHERNET, (ip, v) => ether(v === 4 ? '0800' : '86dd', '8100' + '0064', ip)],
  ['Ethernet + 802.1ad + 802.1Q', LinkType.ETHERNET, (ip, v) => ether(v === 4 ? '0800' : '86dd', '88a8' + '00c8' + '8100' + '0064', ip)],
  ['Linux SLL', LinkType.LINUX_SLL, (ip, v) => sll(v === 4 ? '0800' : '86dd', ip)],
  ['Linux SLL2', LinkType.LINUX_SLL2, (ip, v) => sll2(v === 4 ? '0800' : '86dd', ip)],
  ['raw IP', LinkType.RAW, (ip) => ip],
  ['raw IP (12)', LinkType.RAW_12, (ip) => ip],
  ['raw IP (14)', LinkType.RAW_14, (ip) => ip],
  ['BSD null, little-endian', LinkType.NULL, (ip, v) => nullLe(v === 4 ? 2 : 30, ip)],
  ['BSD null, big-endian', LinkType.NULL, (ip, v) => nullBe(v === 4 ? 2 : 24, ip)],
]

describe('link layers, checked against tshark', () => {
  it.each(cases)('%s', (name, linkType, frame) => {
    const frames = [...v4.map((p) => frame(p, 4)), ...v6.map((p) => frame(p, 6))]
    const file = join(dir, `${name.replace(/\W+/g, '_')}.pcap`)
    writeFileSync(file, new PcapWriter({ linkType }).file(frames.map((data, i) => ({ tsMicros: i, data }))))
    const theirs = tshark(['-r', file, '-T', 'fields', '-E', 'separator=,', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'ip.dst', '-e', 'tcp.srcport', '-e', 'tcp.len'])
      .trim()
      .split('\n')
      .map((l) => {
        const [s4, s6, d6, d4, port, len] = l.split(',')
        return [s4 || s6, d4 || d6, Number(port), Number(len)]
      })
    const ours = frames.map((f) => {
      const net = decodeLink(linkType, f)
      if (net.kind === 'other') throw new Error('not IP')
      const ip = decodeIp(net.data)
      const tcp = decodeTcp(ip.payload)
      return [formatIp(ip.src), formatIp(ip.dst), tcp.srcPort, tcp.payload.length]
    })
    expect(ours).toEqual(theirs)
    expect(ours.length).toBe(10) // 5 packets per flow, IPv4 and IPv6
  })

  it('reports non-IP payloads and unsupported link types', () => {
    expect(decodeLink(LinkType.ETHERNET, ether('0806', '', new Uint8Array(28)))).toEqual({ kind: 'other', etherType: 0x0806 })
    expect(decodeLink(LinkType.NULL, nullLe(7, new Uint8Array(4)))).toEqual({ kind: 'other' })
    expect(() => decodeLink(127, new Uint8Array(64))).toThrow(expect.objectContaining({ code: 'unsupported' }))
    expect(() => decodeLink(LinkType.ETHERNET, fromHex('0200000000010200000000028100'))).toThrow(expect.objectContaining({ code: 'truncated' }))
  })

  it('throws only WireError on random frames of every link type', () => {
    const types = [0, 1, 12, 14, 101, 113, 276, 105, 228]
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 64, size: 'max' }), (lt, frame) => {
        try {
          const net = decodeLink(lt, frame)
          if (net.kind !== 'other') decodeIp(net.data)
        } catch (e) {
          if (!(e instanceof WireError)) throw e
        }
      }),
      { numRuns: RUNS },
    )
  })
})

describe('IPv6 extension chains, checked against tshark', () => {
  it('finds the TCP header behind hop-by-hop, routing, fragment and destination options', () => {
    const src = fromHex('20010db8000000000000000000000001')
    const dst = fromHex('20010db8000000000000000000000002')
    const opts = (type: number, n: number): Ipv6Extension => ({ type, data: Uint8Array.from([n, 1, 4 + 8 * n, ...new Uint8Array(4 + 8 * n)]) }) // one PadN option filling the header
    // Type 2 Routing Header (RFC 6275 §6.4): Hdr Ext Len 2, segments left 1, one home address.
    // With a Routing header the TCP pseudo-header uses the final destination (RFC 8200 §8.1);
    // making that the packet's own destination keeps one checksum right for every chain.
    const routing: Ipv6Extension = { type: 43, data: Uint8Array.from([2, 2, 1, 0, 0, 0, 0, ...dst]) }
    const atomicFrag: Ipv6Extension = { type: 44, data: Uint8Array.of(0, 0, 0, 0, 0, 0, 42) } // offset 0, M=0 (RFC 6946)
    const chains: Ipv6Extension[][] = [[], [opts(0, 0)], [opts(0, 1), opts(60, 0)], [opts(0, 0), routing, opts(60, 2)], [atomicFrag], [opts(0, 0), atomicFrag, opts(60, 0)]]
    const frames = chains.map((extensions, i) =>
      encodeIpv6({ src, dst, extensions, protocol: 6 }, encodeTcp({ srcPort: 1000 + i, dstPort: 80, seq: i, ack: 0, flags: TcpFlag.SYN }, { src, dst })),
    )
    const file = join(dir, 'ipv6-ext.pcap')
    writeFileSync(file, new PcapWriter().file(frames.map((data, i) => ({ tsMicros: i, data }))))
    const theirs = tshark(['-r', file, '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=,', '-e', 'tcp.srcport', '-e', 'tcp.checksum.status']).trim().split('\n')
    const ours = frames.map((f) => {
      const p = decodeIpv6(f)
      return `${p.protocol === 6 ? decodeTcp(p.payload).srcPort : 'none'},1`
    })
    expect(ours).toEqual(theirs)
    expect(ours.length).toBe(chains.length)
  })
})

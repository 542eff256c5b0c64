// pcapng (draft-ietf-opsawg-pcapng §3–§4): a sequence of blocks, each
//   Block Type u32 | Block Total Length u32 | Block Body | Block Total Length u32
// in the byte order the section's Section Header Block announces with its Byte-Order Magic.
// Read here: SHB, IDB (link type, snaplen, if_tsresol, if_tsoffset), EPB, SPB and the obsolete
// Packet Block; every other block type is skipped by its length. Each SHB starts a new section with
// its own byte order and interface list.

import { WireError } from '../bytes.js'
import type { ByteOrder } from './classic.js'
import type { CaptureResult, CapturedPacket, Timestamp } from './packet.js'

export const BlockType = {
  SHB: 0x0a0d0d0a, // Section Header Block (the value reads the same in both byte orders)
  IDB: 0x00000001, // Interface Description Block
  OPB: 0x00000002, // Packet Block (obsolete, §4.3 of the draft's appendix)
  SPB: 0x00000003, // Simple Packet Block
  EPB: 0x00000006, // Enhanced Packet Block
} as const
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d

/** Option codes used here (draft §4.2 table "Interface Description Block Options"). */
export const IdbOption = { opt_endofopt: 0, if_tsresol: 9, if_tsoffset: 14 } as const

export interface PcapngInterface {
  linkType: number
  snaplen: number // 0 = no limit
  /** if_tsresol as on the wire: high bit clear → 10^-n s, set → 2^-(n&0x7f) s. Default 6 (µs). */
  tsresol: number
  tsoffset: bigint // if_tsoffset seconds, default 0
}

export interface PcapngSection {
  byteOrder: ByteOrder
  versionMajor: number
  versionMinor: number
  interfaces: PcapngInterface[]
}

export interface PcapngHeader {
  sections: PcapngSection[]
  /** Blocks of types this reader does not interpret, skipped by their length. */
  skippedBlocks: number
}

export type Pcapng = CaptureResult<PcapngHeader>

const MIN_BLOCK = 12

export function isPcapng(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x0a && bytes[1] === 0x0d && bytes[2] === 0x0d && bytes[3] === 0x0a
}

export function readPcapng(bytes: Uint8Array): Pcapng {
  if (bytes.length < 4) throw WireError.truncated(4 - bytes.length, 'pcapng Section Header Block')
  if (!isPcapng(bytes)) throw new WireError('bad-value', 'pcapng: first block is not a Section Header Block')
  const header: PcapngHeader = { sections: [], skippedBlocks: 0 }
  const packets: CapturedPacket[] = []
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 0
  try {
    while (at < bytes.length) at = readBlock(bytes, dv, at, header, packets)
  } catch (e) {
    // The first section header is the file's identity: if it is unreadable there is no file.
    if (!(e instanceof WireError) || header.sections.length === 0) throw e
    return { header, packets, error: e }
  }
  return { header, packets }
}

function readBlock(bytes: Uint8Array, dv: DataView, at: number, h: PcapngHeader, packets: CapturedPacket[]): number {
  const left = bytes.length - at
  if (left < 8) throw WireError.truncated(8 - left, 'pcapng block header')
  const isShb = dv.getUint32(at, false) === BlockType.SHB
  let section = h.sections[h.sections.length - 1]
  let le: boolean
  if (isShb) {
    if (left < MIN_BLOCK) throw WireError.truncated(MIN_BLOCK - left, 'pcapng Section Header Block')
    const bom = dv.getUint32(at + 8, false)
    if (bom === BYTE_ORDER_MAGIC) le = false
    else if (bom === 0x4d3c2b1a) le = true
    else throw new WireError('bad-value', 'pcapng Section Header Block: bad Byte-Order Magic')
  } else {
    if (!section) throw new WireError('bad-value', 'pcapng: block before any Section Header Block')
    le = section.byteOrder === 'little'
  }
  const total = dv.getUint32(at + 4, le)
  if (total < MIN_BLOCK || total % 4 !== 0) throw new WireError('bad-length', `pcapng block total length ${total}`)
  if (total > left) throw WireError.truncated(total - left, 'pcapng block')
  if (dv.getUint32(at + total - 4, le) !== total) {
    throw new WireError('bad-length', 'pcapng block: trailing Block Total Length differs from the leading one')
  }
  const body = new Body(bytes, dv, at + 8, at + total - 4, le)
  const type = dv.getUint32(at, le)
  if (isShb) {
    body.u32() // Byte-Order Magic, checked above
    const versionMajor = body.u16()
    const versionMinor = body.u16()
    if (versionMajor !== 1) throw new WireError('unsupported', `pcapng version ${versionMajor}.${versionMinor}`)
    body.skip(8) // Section Length: may be -1, and we walk blocks anyway
    body.options(() => {})
    section = { byteOrder: le ? 'little' : 'big', versionMajor, versionMinor, interfaces: [] }
    h.sections.push(section)
  } else if (type === BlockType.IDB) {
    const iface: PcapngInterface = { linkType: body.u16(), snaplen: (body.skip(2), body.u32()), tsresol: 6, tsoffset: 0n }
    body.options((code, value) => {
      if (code === IdbOption.if_tsresol) {
        if (value.length !== 1) throw new WireError('bad-length', 'if_tsresol must be 1 byte')
        iface.tsresol = value[0]
      } else if (code === IdbOption.if_tsoffset) {
        if (value.length !== 8) throw new WireError('bad-length', 'if_tsoffset must be 8 bytes')
        iface.tsoffset = new DataView(value.buffer, value.byteOffset, 8).getBigInt64(0, le)
      }
    })
    section.interfaces.push(iface)
  } else if (type === BlockType.EPB || type === BlockType.OPB) {
    let interfaceId: number
    if (type === BlockType.EPB) interfaceId = body.u32()
    else {
      interfaceId = body.u16()
      body.skip(2) // drops_count
    }
    const units = (BigInt(body.u32()) << 32n) | BigInt(body.u32())
    const caplen = body.u32()
    const origLength = body.u32()
    const data = body.padded(caplen)
    body.options(() => {})
    const iface = interfaceOf(section, interfaceId)
    packets.push({ ts: timestampOf(iface, units), linkType: iface.linkType, data, origLength, interfaceId })
  } else if (type === BlockType.SPB) {
    const origLength = body.u32()
    const iface = interfaceOf(section, 0)
    // §4.4: the captured length is the smaller of the original length and the snaplen; any
    // further bytes in the body are padding.
    let caplen = Math.min(origLength, body.remaining)
    if (iface.snaplen !== 0) caplen = Math.min(caplen, iface.snaplen)
    const data = body.take(caplen)
    // An SPB carries no timestamp (§4.4); zero says "unknown" rather than inventing one.
    packets.push({ ts: { sec: 0, nsec: 0 }, linkType: iface.linkType, data, origLength, interfaceId: 0 })
  } else {
    h.skippedBlocks++
  }
  return at + total
}

function interfaceOf(section: PcapngSection, id: number): PcapngInterface {
  const iface = section.interfaces[id]
  if (!iface) throw new WireError('bad-value', `pcapng packet names interface ${id}, not described in its section`)
  return iface
}

/** Timestamp units per second for an if_tsresol byte. */
export function unitsPerSecond(tsresol: number): bigint {
  const exp = BigInt(tsresol & 0x7f)
  return tsresol & 0x80 ? 1n << exp : 10n ** exp
}

function timestampOf(iface: PcapngInterface, units: bigint): Timestamp {
  const per = unitsPerSecond(iface.tsresol)
  const sec = units / per + iface.tsoffset
  const nsec = ((units % per) * 1_000_000_000n) / per
  return { sec: Number(sec), nsec: Number(nsec) }
}

/** A bounds-checked cursor over one block body; any overrun means the block's length lied. */
class Body {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly dv: DataView,
    private pos: number,
    private readonly end: number,
    private readonly le: boolean,
  ) {}
  get remaining(): number {
    return this.end - this.pos
  }
  private need(n: number): void {
    if (this.remaining < n) throw new WireError('bad-length', 'pcapng block body shorter than its fields')
  }
  skip(n: number): void {
    this.need(n)
    this.pos += n
  }
  u16(): number {
    this.need(2)
    const v = this.dv.getUint16(this.pos, this.le)
    this.pos += 2
    return v
  }
  u32(): number {
    this.need(4)
    const v = this.dv.getUint32(this.pos, this.le)
    this.pos += 4
    return v
  }
  take(n: number): Uint8Array {
    this.need(n)
    const v = this.bytes.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }
  /** `n` bytes followed by padding to a 32-bit boundary. */
  padded(n: number): Uint8Array {
    const v = this.take(n)
    this.skip((4 - (n % 4)) % 4)
    return v
  }
  /** Options (§3.5): code u16, length u16, value padded to 32 bits, until opt_endofopt or the end. */
  options(each: (code: number, value: Uint8Array) => void): void {
    while (this.remaining > 0) {
      const code = this.u16()
      const length = this.u16()
      if (code === IdbOption.opt_endofopt) return
      each(code, this.padded(length))
    }
  }
}

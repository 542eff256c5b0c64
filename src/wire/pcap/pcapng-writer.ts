// pcapng encoder with every choice explicit (byte order, if_tsresol, block kinds, unknown blocks),
// so tests can build any file the reader must accept. Layout as in pcapng.ts.

import { WireError, concatBytes } from '../bytes.js'
import type { ByteOrder } from './classic.js'
import { BYTE_ORDER_MAGIC, BlockType, IdbOption } from './pcapng.js'

export interface PcapngInterfaceSpec {
  linkType: number
  snaplen: number
  tsresol?: number // written as an if_tsresol option when given
  tsoffset?: bigint
}

export type PcapngBlockSpec =
  | { kind: 'epb'; interfaceId: number; units: bigint; data: Uint8Array; origLength: number }
  | { kind: 'opb'; interfaceId: number; units: bigint; data: Uint8Array; origLength: number }
  | { kind: 'spb'; data: Uint8Array; origLength: number }
  | { kind: 'other'; blockType: number; body: Uint8Array }

export interface PcapngSectionSpec {
  byteOrder: ByteOrder
  interfaces: PcapngInterfaceSpec[]
  blocks: PcapngBlockSpec[]
}

export function encodePcapng(sections: readonly PcapngSectionSpec[]): Uint8Array {
  const out: Uint8Array[] = []
  for (const s of sections) {
    const le = s.byteOrder === 'little'
    const f = new Fields(le)
    out.push(block(le, BlockType.SHB, f.u32(BYTE_ORDER_MAGIC).u16(1).u16(0).i64(-1n).take()))
    for (const i of s.interfaces) {
      f.u16(i.linkType).u16(0).u32(i.snaplen)
      if (i.tsresol !== undefined) f.option(IdbOption.if_tsresol, Uint8Array.of(i.tsresol))
      if (i.tsoffset !== undefined) f.option(IdbOption.if_tsoffset, new Fields(le).i64(i.tsoffset).take())
      if (i.tsresol !== undefined || i.tsoffset !== undefined) f.u16(0).u16(0)
      out.push(block(le, BlockType.IDB, f.take()))
    }
    for (const b of s.blocks) {
      if (b.kind === 'epb') {
        f.u32(b.interfaceId).u32(Number(b.units >> 32n)).u32(Number(b.units & 0xffffffffn)).u32(b.data.length).u32(b.origLength).padded(b.data)
        out.push(block(le, BlockType.EPB, f.take()))
      } else if (b.kind === 'opb') {
        f.u16(b.interfaceId).u16(0).u32(Number(b.units >> 32n)).u32(Number(b.units & 0xffffffffn)).u32(b.data.length).u32(b.origLength).padded(b.data)
        out.push(block(le, BlockType.OPB, f.take()))
      } else if (b.kind === 'spb') {
        out.push(block(le, BlockType.SPB, f.u32(b.origLength).padded(b.data).take()))
      } else {
        if (b.body.length % 4 !== 0) throw new WireError('bad-length', 'pcapng block body must be 32-bit aligned')
        out.push(block(le, b.blockType, b.body))
      }
    }
  }
  return concatBytes(...out)
}

function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const total = body.length + 12
  const head = new Fields(le).u32(type).u32(total).take()
  return concatBytes(head, body, new Fields(le).u32(total).take())
}

class Fields {
  private parts: Uint8Array[] = []
  constructor(private readonly le: boolean) {}
  private num(size: number, set: (dv: DataView) => void): this {
    const b = new Uint8Array(size)
    set(new DataView(b.buffer))
    this.parts.push(b)
    return this
  }
  u16(v: number): this {
    return this.num(2, (dv) => dv.setUint16(0, v, this.le))
  }
  u32(v: number): this {
    return this.num(4, (dv) => dv.setUint32(0, v, this.le))
  }
  i64(v: bigint): this {
    return this.num(8, (dv) => dv.setBigInt64(0, v, this.le))
  }
  padded(b: Uint8Array): this {
    this.parts.push(b, new Uint8Array((4 - (b.length % 4)) % 4))
    return this
  }
  option(code: number, value: Uint8Array): this {
    return this.u16(code).u16(value.length).padded(value)
  }
  take(): Uint8Array {
    const b = concatBytes(...this.parts)
    this.parts = []
    return b
  }
}

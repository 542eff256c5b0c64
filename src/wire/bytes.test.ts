import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { fromHex, Reader, toHex, within, WireError, Writer } from './bytes.js'

const runs = process.env.SULTRY_QUICK ? 300 : 10_000

describe('Reader', () => {
  it('reads big-endian integers as TLS and Tor put them on the wire', () => {
    const r = new Reader(fromHex('01 0203 040506 0708090a 0102030405060708 ff'))
    expect([r.u8(), r.u16(), r.u24(), r.u32()]).toEqual([0x01, 0x0203, 0x040506, 0x0708090a])
    expect(r.u64()).toBe(0x0102030405060708n)
    expect(r.u8()).toBe(0xff)
    expect(r.remaining).toBe(0)
  })

  it('reads u32 values with the top bit set as unsigned', () => {
    expect(new Reader(fromHex('ffffffff')).u32()).toBe(0xffffffff)
  })

  it('says how many bytes are missing', () => {
    const r = new Reader(fromHex('0001'), 'test')
    r.u8()
    try {
      r.u24()
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(WireError)
      expect((e as WireError).code).toBe('truncated')
      expect((e as WireError).needed).toBe(2)
    }
  })

  it('turns a body shorter than its length field into bad-length, and leftovers into trailing', () => {
    // A u16-length vector claiming 4 bytes whose contents want 6.
    const short = new Reader(fromHex('0004 00000000'))
    expect(() => within(short.vec16(), (b) => b.bytes(6))).toThrowError(expect.objectContaining({ code: 'bad-length' }))
    const long = new Reader(fromHex('0004 00000000'))
    expect(() => within(long.vec16(), (b) => b.bytes(2))).toThrowError(expect.objectContaining({ code: 'trailing' }))
  })
})

describe('Writer', () => {
  it('back-patches vector length prefixes', () => {
    const w = new Writer(1)
    w.vec16((v) => v.u8(1).vec8((x) => x.bytes(fromHex('aabbcc'))))
    expect(toHex(w.finish())).toBe('0005' + '01' + '03aabbcc')
  })

  it('rejects values that do not fit their field', () => {
    expect(() => new Writer().u8(256)).toThrowError(WireError)
    expect(() => new Writer().u16(-1)).toThrowError(WireError)
    expect(() => new Writer().vec8((w) => w.bytes(new Uint8Array(256)))).toThrowError(expect.objectContaining({ code: 'bad-length' }))
  })

  it('round-trips any sequence of fields through Reader', () => {
    type Field = { k: 'u8' | 'u16' | 'u24' | 'u32'; v: number } | { k: 'v16'; b: Uint8Array }
    const field: fc.Arbitrary<Field> = fc.oneof(
      fc.record({ k: fc.constant('u8' as const), v: fc.integer({ min: 0, max: 0xff }) }),
      fc.record({ k: fc.constant('u16' as const), v: fc.integer({ min: 0, max: 0xffff }) }),
      fc.record({ k: fc.constant('u24' as const), v: fc.integer({ min: 0, max: 0xffffff }) }),
      fc.record({ k: fc.constant('u32' as const), v: fc.integer({ min: 0, max: 0xffffffff }) }),
      fc.record({ k: fc.constant('v16' as const), b: fc.uint8Array({ maxLength: 600, size: 'max' }) }),
    )
    fc.assert(
      fc.property(fc.array(field, { maxLength: 20 }), (fields) => {
        const w = new Writer(4)
        for (const f of fields) {
          if (f.k === 'v16') w.vec16((x) => x.bytes(f.b))
          else w[f.k](f.v)
        }
        const r = new Reader(w.finish())
        for (const f of fields) {
          if (f.k === 'v16') expect(toHex(r.vec16().rest())).toBe(toHex(f.b))
          else expect(r[f.k]()).toBe(f.v)
        }
        expect(r.remaining).toBe(0)
      }),
      { numRuns: runs },
    )
  })
})

describe('hex', () => {
  it('rejects odd-length and non-hex strings with WireError', () => {
    expect(() => fromHex('abc')).toThrowError(WireError)
    expect(() => fromHex('zz')).toThrowError(WireError)
  })
})

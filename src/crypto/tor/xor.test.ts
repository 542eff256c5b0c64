import { describe, expect, it } from 'vitest'
import { xorLayers } from './xor.js'

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 167 + seed * 31 + 11) & 0xff)

describe('xorLayers', () => {
  it('equals XOR byte by byte, layer by layer, for 0..7 layers at unaligned offsets and odd lengths', () => {
    for (const n of [0, 1, 3, 4, 5, 509, 510, 511, 512]) {
      for (let count = 0; count <= 7; count++) {
        const backing = new Uint8Array(n + 3)
        backing.set(bytes(n + 3, n))
        const data = backing.subarray(3, 3 + n) // never word-aligned
        const layers = Array.from({ length: count }, (_, k) => bytes(n + 8, k + 1).subarray(k % 4, (k % 4) + n))
        const want = data.slice()
        for (const l of layers) for (let i = 0; i < n; i++) want[i] ^= l[i]
        xorLayers(data, layers)
        expect(Array.from(data), `n=${n} layers=${count}`).toEqual(Array.from(want))
        expect(Array.from(backing.subarray(0, 3))).toEqual(Array.from(bytes(n + 3, n).subarray(0, 3)))
      }
    }
  })

  it('rejects a layer shorter than the data', () => {
    expect(() => xorLayers(new Uint8Array(10), [new Uint8Array(10), new Uint8Array(9)])).toThrow(RangeError)
  })
})

import { describe, expect, it } from 'vitest'
import { transfer } from './bench-transfer.js'

describe('bench transfer', () => {
  it('moves every byte one way over the segmenting link, deterministically', async () => {
    const a = await transfer(5, 2_000_000)
    const b = await transfer(5, 2_000_000)
    expect(a.bytes).toBe(2_000_000)
    // 1460-byte MSS with random splits: more segments than 2 MB / 1460, and coalescing hands the
    // receiver fewer chunks than segments.
    expect(a.segments).toBeGreaterThan(Math.ceil(2_000_000 / 1460))
    expect(a.chunks).toBeLessThan(a.segments)
    expect(b.traceHash).toBe(a.traceHash)
    expect(b.virtualMs).toBe(a.virtualMs)
  })
})

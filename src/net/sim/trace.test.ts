import { describe, expect, it } from 'vitest'
import { canonical, Trace } from './trace.js'

describe('Trace', () => {
  it('hashes canonical lines: key order does not matter, values do', () => {
    const a = new Trace(() => 5)
    const b = new Trace(() => 5)
    a.event('h', 'x', { p: 1, q: [2, 'z'] })
    b.event('h', 'x', { q: [2, 'z'], p: 1 })
    expect(a.digest()).toBe(b.digest())
    b.event('h', 'y')
    expect(a.digest()).not.toBe(b.digest())
    expect(canonical({ b: 1, a: { d: null, c: 'x' } })).toBe('{"a":{"c":"x","d":null},"b":1}')
  })

  it('keeps the last lines in order and all lines only when asked', () => {
    const t = new Trace(() => 0, true, 3)
    for (let i = 0; i < 5; i++) t.line(`l${i}`)
    expect(t.tail()).toEqual(['l2', 'l3', 'l4'])
    expect(t.lines()).toEqual(['l0', 'l1', 'l2', 'l3', 'l4'])
    expect(t.count).toBe(5)
    expect(new Trace(() => 0).lines()).toBeUndefined()
  })

  it('digest() can be taken mid-run without disturbing the running hash', () => {
    const a = new Trace(() => 0)
    const b = new Trace(() => 0)
    a.line('one')
    a.digest()
    a.line('two')
    b.line('one')
    b.line('two')
    expect(a.digest()).toBe(b.digest())
  })
})

import { describe, expect, it } from 'vitest'
import { RELAY_MARK_TTL_MS, RelayMarks } from './relay-marks.js'

describe('RelayMarks', () => {
  it('holds a mark for its lifetime of World time, then forgets it; a new failure renews it', () => {
    let now = 1000
    const marks = new RelayMarks(() => now)
    expect(marks.has('a')).toBe(false)
    marks.add('a')
    now += RELAY_MARK_TTL_MS - 1
    expect(marks.has('a')).toBe(true)
    marks.add('a')
    now += RELAY_MARK_TTL_MS - 1
    expect(marks.has('a')).toBe(true)
    now += 1
    expect(marks.has('a')).toBe(false)
    expect(marks.has('b')).toBe(false)
  })
})

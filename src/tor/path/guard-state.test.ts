import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GUARD_LIFETIME_MS, GuardStateError, REMOVE_UNLISTED_GUARDS_AFTER_MS, formatGuardState, newGuard, parseGuardState, reconcileGuards, type GuardRecord } from './guard-state.js'

const DAY = 86_400_000
const id = (c: string) => c.repeat(40)

describe('guard state (guard-spec: GUARD_LIFETIME 120 days, REMOVE_UNLISTED_GUARDS_AFTER 20 days)', () => {
  it('dates a new guard up to a tenth of its lifetime in the past', () => {
    const now = 1000 * DAY
    expect(newGuard(id('A'), now, 0).addedOn).toBe(now)
    expect(newGuard(id('A'), now, 0.5).addedOn).toBe(now - 6 * DAY)
    expect(now - newGuard(id('A'), now, 0.999999).addedOn).toBeLessThan(12 * DAY)
  })

  it('keeps order, dates an unlisting, forgives a relisting, and drops the old and the long unlisted', () => {
    const now = 1000 * DAY
    const guards: GuardRecord[] = [
      { id: id('A'), addedOn: now - 10 * DAY },
      { id: id('B'), addedOn: now - GUARD_LIFETIME_MS }, // lifetime over
      { id: id('C'), addedOn: now - 10 * DAY, unlistedSince: now - 5 * DAY }, // listed again
      { id: id('D'), addedOn: now - 10 * DAY, unlistedSince: now - REMOVE_UNLISTED_GUARDS_AFTER_MS }, // unlisted too long
      { id: id('E'), addedOn: now - 10 * DAY }, // unlisted from now
    ]
    const listed = new Set([id('A'), id('B'), id('C')])
    expect(reconcileGuards(guards, (g) => listed.has(g), now)).toEqual([
      { id: id('A'), addedOn: now - 10 * DAY },
      { id: id('C'), addedOn: now - 10 * DAY },
      { id: id('E'), addedOn: now - 10 * DAY, unlistedSince: now },
    ])
  })

  const record = fc.record(
    { id: fc.stringMatching(/^[0-9A-F]{40}$/), addedOn: fc.nat({ max: 2 ** 45 }), unlistedSince: fc.nat({ max: 2 ** 45 }) },
    { requiredKeys: ['id', 'addedOn'] },
  )

  it('reads back what it writes', () => {
    fc.assert(
      fc.property(fc.uniqueArray(record, { selector: (r) => r.id, maxLength: 8 }), (guards) => {
        expect(parseGuardState(formatGuardState(guards))).toEqual(guards)
      }),
    )
  })

  it('anything else read from the file is a GuardStateError, never another exception', () => {
    const valid = formatGuardState([{ id: id('A'), addedOn: 5 }, { id: id('B'), addedOn: 6, unlistedSince: 7 }])
    const mutated = fc.tuple(fc.nat({ max: valid.length - 1 }), fc.string({ maxLength: 4 })).map(([at, s]) => valid.slice(0, at) + s + valid.slice(at + 1))
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), mutated), (text) => {
        try {
          parseGuardState(text)
        } catch (e) {
          expect(e).toBeInstanceOf(GuardStateError)
        }
      }),
      { numRuns: 3000 },
    )
    expect(() => parseGuardState(formatGuardState([{ id: id('A'), addedOn: 1 }, { id: id('A'), addedOn: 2 }]))).toThrow(/listed twice/)
    expect(() => parseGuardState('{"format":"sultry-guards-1","guards":[{"id":"abc","addedOn":1}]}')).toThrow(GuardStateError)
  })
})

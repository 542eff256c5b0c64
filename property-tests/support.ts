// Shared pieces of the property suites: run counts, byte mutations of valid inputs, and the
// "only WireError may escape" check every parser property uses.

import fc from 'fast-check'
import { concatBytes, WireError } from '../src/wire/bytes.js'

/** Runs per codec property: 10,000 in `make test`, 300 in `make lab`'s quick mode (SULTRY_QUICK=1). */
export const CODEC_RUNS = process.env.SULTRY_QUICK ? 300 : 10_000

/** Fails the property if `fn` throws anything but a WireError. */
export function onlyWireError(fn: () => unknown): void {
  try {
    fn()
  } catch (e) {
    if (!(e instanceof WireError)) throw e
  }
}

export type Mutation = { kind: 'flip' | 'set' | 'insert' | 'delete' | 'truncate'; at: number; value: number }

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate'),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
})

/** Applies mutations in order; positions wrap around the current length. */
export function mutate(b: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let out: Uint8Array = b.slice()
  for (const m of ms) {
    const at = out.length === 0 ? 0 : m.at % out.length
    if (m.kind === 'flip' && out.length > 0) out[at] ^= 1 << (m.value % 8)
    else if (m.kind === 'set' && out.length > 0) out[at] = m.value
    else if (m.kind === 'insert') out = concatBytes(out.subarray(0, at), Uint8Array.of(m.value), out.subarray(at))
    else if (m.kind === 'delete' && out.length > 0) out = concatBytes(out.subarray(0, at), out.subarray(at + 1))
    else if (m.kind === 'truncate') out = out.subarray(0, at)
  }
  return out
}

/** A valid input with one to four bytes flipped, set, inserted, deleted or the tail cut. */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([b, ms]) => mutate(b, ms))
}

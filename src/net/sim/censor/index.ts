// The censor ladder C1–C6 (DESIGN.md "Censor models", notes/sni-censorship.md §5.3), one factory.

import type { Censor, Rung } from './censor.js'
import { StringMatchCensor, type C1Options } from './c1-string-match.js'
import { FirstSegmentCensor } from './c2-first-segment.js'
import { FirstRecordCensor, type C3Options } from './c3-first-record.js'
import { FailClosedCensor } from './c4-fail-closed.js'
import { FullReassemblyCensor, type C5Options } from './c5-full-reassembly.js'
import { EchBlockingCensor, type C6Options } from './c6-ech-block.js'

export type { Censor, CensorEvent, Rung } from './censor.js'
export type { Blocklist, CensorAction, CensorOptions } from './policy.js'
export { StringMatchCensor, FirstSegmentCensor, FirstRecordCensor, FailClosedCensor, FullReassemblyCensor, EchBlockingCensor }

export const RUNGS: readonly Rung[] = ['C1', 'C2', 'C3', 'C4', 'C5', 'C6']

/** Every rung's options in one type (each rung reads the ones it knows). */
export type AnyCensorOptions = C1Options & C3Options & C5Options & C6Options

export function censorFor(rung: Rung, options: AnyCensorOptions): Censor {
  switch (rung) {
    case 'C1':
      return new StringMatchCensor(options)
    case 'C2':
      return new FirstSegmentCensor(options)
    case 'C3':
      return new FirstRecordCensor(options)
    case 'C4':
      return new FailClosedCensor(options)
    case 'C5':
      return new FullReassemblyCensor(options)
    case 'C6':
      return new EchBlockingCensor(options)
  }
}

// The per-flow part of a censor rung: it is shown the flow's segments (both directions) until it
// decides. Rungs differ only here; what happens to a blocked flow is the Censor's job.

import type { Segment } from '../middlebox.js'

export type Decision =
  /** Stop looking: the flow passes from now on. `failOpen` marks a give-up (truncated, too big, timeout). */
  | { readonly kind: 'allow'; readonly reason: string; readonly failOpen?: boolean }
  | { readonly kind: 'block'; readonly reason: string }

export interface FlowInspector {
  /** Undefined: undecided, keep showing segments. */
  push(seg: Segment): Decision | undefined
  /** Bytes this inspector holds now (the memory bound the property test checks). */
  readonly buffered: number
}

export const allow = (reason: string, failOpen = false): Decision => ({ kind: 'allow', reason, failOpen })
export const block = (reason: string): Decision => ({ kind: 'block', reason })

// A middlebox on a simulated link: it sees every segment of every connection on the link as it
// goes onto the wire (after the sender's segmentation, before any receive-side coalescing), in
// order, with its direction and flow, and decides what happens to it. This is where a censor sits.
//
// TCP semantics the network keeps for it: a segment the box drops is never delivered, and since
// TCP cannot deliver past a hole, that direction of the flow is frozen from then on (later
// segments and FIN are lost too; the lost bytes stay unacknowledged, so the sender's window fills
// and its writes block, as they would behind a real black hole). Injected RSTs reach the chosen
// end after the link's latency, behind any data already in flight towards it.

import type { FlowInfo } from './pipe.js'

export interface Segment {
  readonly flow: FlowInfo
  /** True for client → server. */
  readonly fromClient: boolean
  /** Payload; empty for a bare FIN or RST. */
  readonly bytes: Uint8Array
  /** Set when the segment carries FIN or RST (from an endpoint, not injected). */
  readonly flag: 'fin' | 'rst' | undefined
  /** Virtual ms. */
  readonly time: number
}

export type Verdict =
  | { readonly kind: 'pass' }
  /** Lose this segment; the direction is frozen after it. */
  | { readonly kind: 'drop' }
  /** Lose this segment and inject RST towards the client, the server, or both. */
  | { readonly kind: 'rst'; readonly to: 'client' | 'server' | 'both' }
  /** Deliver only the first `keep` bytes of this segment, then freeze the direction. */
  | { readonly kind: 'truncate'; readonly keep: number }

export const PASS: Verdict = { kind: 'pass' }
export const DROP: Verdict = { kind: 'drop' }

/** What a connection attempt (SYN) meets: through, silently dropped (connect times out), or RST. */
export type SynVerdict = 'pass' | 'drop' | 'rst'

export interface Middlebox {
  readonly name: string
  /** A connection attempt from flow.clientHost to flow.serverHost. */
  syn?(flow: FlowInfo, time: number): SynVerdict
  /** A segment on the wire; called for every segment not already lost behind a frozen direction. */
  segment(seg: Segment): Verdict
}

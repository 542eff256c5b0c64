// A censor: a middlebox that tracks flows in a bounded table, hands each new flow's segments to its
// rung's inspector until that decides, and applies the action (drop, RST, throttle) to blocked
// flows. It decides from the bytes on the wire only: addresses, ports, payloads, in the order seen.

import type { FlowInfo } from '../pipe.js'
import { DROP, PASS, type Middlebox, type Segment, type SynVerdict, type Verdict } from '../middlebox.js'
import type { Decision, FlowInspector } from './inspector.js'
import { type CensorAction, type CensorOptions, listedIp } from './policy.js'

export type Rung = 'C1' | 'C2' | 'C3' | 'C4' | 'C5' | 'C6'

export interface CensorEvent {
  time: number
  flow: number
  /** client:port>server:port */
  tuple: string
  decision: 'block' | 'allow'
  reason: string
  failOpen: boolean
}

interface FlowState {
  inspector: FlowInspector | undefined
  blocked: boolean
  /** Bytes seen on the flow, both directions (the throttle budget counts from the first). */
  bytes: number
  fins: number
}

const MAX_EVENTS = 256

export abstract class Censor implements Middlebox {
  readonly name: string
  readonly action: CensorAction
  readonly maxFlows: number
  /** The last decisions (at most 256), oldest first. */
  readonly events: CensorEvent[] = []
  readonly stats = { flows: 0, blocked: 0, allowed: 0, failOpen: 0, evicted: 0 }
  private readonly flows = new Map<number, FlowState>()

  constructor(
    readonly rung: Rung,
    readonly options: CensorOptions,
  ) {
    this.action = options.action ?? { kind: 'drop' }
    this.maxFlows = options.maxFlows ?? 4096
    this.name = `censor-${rung.toLowerCase()}-${this.action.kind}`
  }

  /** A fresh inspector for a new flow. */
  protected abstract inspector(flow: FlowInfo): FlowInspector

  /** Flows tracked now (bounded by maxFlows). */
  get trackedFlows(): number {
    return this.flows.size
  }

  /** Bytes held by every inspector (bounded: maxFlows × the rung's per-flow limit). */
  get buffered(): number {
    let n = 0
    for (const f of this.flows.values()) n += f.inspector?.buffered ?? 0
    return n
  }

  syn(flow: FlowInfo, time: number): SynVerdict {
    if (!listedIp(this.options.blocklist, flow.serverAddress)) return 'pass'
    this.record(flow, time, { kind: 'block', reason: `destination ${flow.serverAddress} listed` })
    if (this.action.kind === 'throttle') {
      // The connection opens and freezes once the budget is spent.
      this.track(flow.id, { inspector: undefined, blocked: true, bytes: 0, fins: 0 })
      return 'pass'
    }
    return this.action.kind === 'rst' ? 'rst' : 'drop'
  }

  segment(seg: Segment): Verdict {
    const id = seg.flow.id
    let st = this.flows.get(id)
    if (!st) {
      st = { inspector: this.inspector(seg.flow), blocked: false, bytes: 0, fins: 0 }
      this.track(id, st)
    }
    if (seg.flag) return this.flag(id, st, seg.flag)
    const before = st.bytes
    st.bytes += seg.bytes.length
    if (st.blocked) return this.onBlocked(before, seg, false)
    if (!st.inspector) return PASS
    const d = st.inspector.push(seg)
    if (!d) return PASS
    st.inspector = undefined
    this.record(seg.flow, seg.time, d)
    if (d.kind === 'allow') return PASS
    st.blocked = true
    return this.onBlocked(before, seg, true)
  }

  private flag(id: number, st: FlowState, flag: 'fin' | 'rst'): Verdict {
    if (st.blocked && this.action.kind !== 'throttle') return DROP
    // A flow both ends closed, or reset, is forgotten: the table only holds live flows.
    if (flag === 'rst' || ++st.fins === 2) this.flows.delete(id)
    return PASS
  }

  private onBlocked(before: number, seg: Segment, trigger: boolean): Verdict {
    const a = this.action
    if (a.kind === 'throttle') {
      if (before + seg.bytes.length <= a.afterBytes) return PASS
      return { kind: 'truncate', keep: Math.max(0, a.afterBytes - before) }
    }
    if (a.kind === 'rst' && trigger) return { kind: 'rst', to: 'both' }
    return DROP
  }

  private track(id: number, st: FlowState): void {
    if (this.flows.size >= this.maxFlows) {
      // Evict the oldest (Map keeps insertion order). Its later segments look like a new flow
      // picked up mid-stream: the TLS rungs find no ClientHello there and let it pass, C1 keeps
      // matching, as a DPI box with a full flow table behaves.
      const oldest = this.flows.keys().next().value as number
      this.flows.delete(oldest)
      this.stats.evicted++
    }
    this.flows.set(id, st)
    this.stats.flows++
  }

  private record(flow: FlowInfo, time: number, d: Decision): void {
    const failOpen = d.kind === 'allow' && d.failOpen === true
    if (d.kind === 'block') this.stats.blocked++
    else this.stats.allowed++
    if (failOpen) this.stats.failOpen++
    if (this.events.length >= MAX_EVENTS) this.events.shift()
    this.events.push({
      time,
      flow: flow.id,
      tuple: `${flow.clientAddress}:${flow.clientPort}>${flow.serverAddress}:${flow.serverPort}`,
      decision: d.kind,
      reason: d.reason,
      failOpen,
    })
  }
}

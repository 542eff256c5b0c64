// The inspector C3 and C4 share: in-order reassembly of the client's bytes until the first TLS
// record is complete (within a segment count and a time limit), then a parse of that record only.
// C3 fails open on everything it cannot see whole; C4 fails closed on fragmented or SNI-less hellos.

import { MAX_RECORD_LENGTH, RECORD_HEADER_LENGTH } from '../../../wire/tls/record.js'
import type { Segment } from '../middlebox.js'
import type { Blocklist } from './policy.js'
import { helloFacts, helloInFirstRecord, sniVerdict } from './hello.js'
import { allow, block, type Decision, type FlowInspector } from './inspector.js'

export interface ReassemblyLimits {
  /** Client segments reassembled before giving up (Iran 2024 "reads maximum 10 (first) packets", Xray-core#4370). Default 10. */
  maxSegments?: number
  /** Give up when the first record is still incomplete this long after the first data segment. Default 5000 ms. */
  timeoutMs?: number
}

export class FirstRecordInspector implements FlowInspector {
  /** Never more than one maximal record. */
  private buf = new Uint8Array(0)
  private segments = 0
  private t0 = -1
  private readonly maxSegments: number
  private readonly timeoutMs: number

  constructor(
    private readonly list: Blocklist,
    private readonly failClosed: boolean,
    limits: ReassemblyLimits = {},
  ) {
    this.maxSegments = limits.maxSegments ?? 10
    this.timeoutMs = limits.timeoutMs ?? 5000
  }

  get buffered(): number {
    return this.buf.length
  }

  push(seg: Segment): Decision | undefined {
    if (!seg.fromClient || seg.bytes.length === 0) return undefined
    if (this.t0 < 0) this.t0 = seg.time
    else if (seg.time - this.t0 > this.timeoutMs) return this.giveUp(`first record incomplete after ${this.timeoutMs} ms`)
    this.segments++
    this.append(seg.bytes)
    const r = helloInFirstRecord(this.buf)
    if (r.kind === 'not-tls') return allow(`not a ClientHello (${r.why})`)
    if (r.kind === 'truncated') {
      if (r.where === 'hello') return this.giveUp('ClientHello continues past the first record')
      if (this.segments >= this.maxSegments) return this.giveUp(`first record incomplete after ${this.segments} segments`)
      return undefined
    }
    const facts = helloFacts(r.hello)
    if (this.failClosed && this.segments > 1) return block(`fragmented ClientHello (${this.segments} segments)`)
    if (this.failClosed && facts.sni === undefined) return block('ClientHello without SNI')
    return sniVerdict(this.list, facts) ?? allow(facts.sni === undefined ? 'no SNI' : 'SNI not listed')
  }

  private giveUp(why: string): Decision {
    return this.failClosed ? block(why) : allow(why, true)
  }

  /** Keeps bytes up to the first record's end (its header says where), at most one maximal record. */
  private append(bytes: Uint8Array): void {
    let limit = MAX_RECORD_LENGTH
    const have = this.buf.length
    if (have >= RECORD_HEADER_LENGTH) limit = RECORD_HEADER_LENGTH + ((this.buf[3] << 8) | this.buf[4])
    const take = Math.max(0, Math.min(bytes.length, limit - have))
    const next = new Uint8Array(have + take)
    next.set(this.buf)
    next.set(bytes.subarray(0, take), have)
    this.buf = next
  }
}

// Telling "the censor froze this flow" from "nobody has anything to say", after the handshake got
// through. A throttle-after-N-bytes censor (TSPU's 16–20 KB freeze, notes/sni-censorship.md §5.1)
// lets the ServerHello pass, so the planner's handshake verdict says "works"; the transfer then
// stops dead. Sans-IO: feed it each direction's bytes with the World time they arrived, ask check()
// at deadline(), get a Stall or nothing.
//
// Two shapes count, and nothing else (an idle keep-alive connection, a server thinking about a
// later request, a client not reading are all silence by someone's choice):
// - mid-record: the server's bytes stop inside a TLS record. Servers write whole records; a record
//   that stays half-delivered means the path is holding the rest back.
// - unanswered: the client's first request after the handshake (its first application_data record
//   after its Finished) got no server byte at all. Only the first exchange: later client records
//   include HTTP/2 WINDOW_UPDATEs and PING ACKs that no server answers.
// Either must last max(bound, gapFactor × the longest wait the connection had before): bytes that
// came in fast and then stopped are a freeze; a link that has been slow all along is just slow.
// Only the first windowBytes from the server are watched: the censor this is for freezes early.

import { ContentType } from '../wire/tls/record.js'
import { RecordCursor } from './record-cursor.js'

export interface StallOptions {
  /** The server negotiated TLS 1.3: the client's first application_data record after the ServerHello is its Finished, not a request. */
  tls13: boolean
  /** Silence inside a server record that counts as a freeze (default 4000 ms). */
  midRecordMs?: number
  /** Silence after the client's first request that counts as a freeze (default 8000 ms: a slow first answer is common). */
  unansweredMs?: number
  /** The bound is at least this many times the longest earlier wait for server bytes (default 4). */
  gapFactor?: number
  /** Stop watching after this many server bytes (default 256 KiB). */
  windowBytes?: number
}

export type StallKind = 'mid-record' | 'unanswered'

export interface Stall {
  kind: StallKind
  /** Server → client bytes seen, from the ServerHello on. */
  down: number
  /** Client → server bytes seen after the first flight. */
  up: number
  /** How long the server had owed bytes when this was judged (World ms). */
  silentMs: number
  /** From the first server byte to the last one before the silence. */
  downMs: number
  /** The longest earlier wait for server bytes; the bound grew with it. */
  longestWaitMs: number
}

export type StallState = 'watching' | 'stalled' | 'done'

export const STALL_DEFAULTS = { midRecordMs: 4000, unansweredMs: 8000, gapFactor: 4, windowBytes: 256 * 1024 } as const

export class StallDetector {
  private readonly o: Required<StallOptions>
  private readonly downCursor = new RecordCursor()
  private readonly upCursor = new RecordCursor()
  private down = 0
  private up = 0
  private firstDownAt: number | undefined
  private lastDownAt: number
  /** When the client's first request went out, until the server's next byte. */
  private requestAt: number | undefined
  private firstExchange = true
  private finishedAhead: boolean
  private longestWait = 0
  /** The last time the client was seen holding the stream back: silence before it is not the path's. */
  private heldAt = -Infinity
  private st: StallState = 'watching'
  private stall: Stall | undefined
  /** Why watching ended, for the log. */
  doneWhy: string | undefined

  constructor(o: StallOptions, now: number) {
    this.o = { ...STALL_DEFAULTS, ...o }
    this.finishedAhead = o.tls13
    this.lastDownAt = now
  }

  get state(): StallState {
    return this.st
  }

  /** Server → client bytes. Returns the stall it ends, if bytes come after a verdict (then it was no freeze). */
  server(chunk: Uint8Array, now: number): Stall | undefined {
    if (this.st === 'stalled') {
      this.finish('server bytes came after the stall')
      return this.stall
    }
    if (this.st !== 'watching' || chunk.length === 0) return undefined
    const since = this.waitingSince()
    if (since !== undefined) this.longestWait = Math.max(this.longestWait, now - since)
    this.down += chunk.length
    this.firstDownAt ??= now
    this.lastDownAt = now
    if (this.requestAt !== undefined) this.firstExchange = false
    this.requestAt = undefined
    this.downCursor.push(chunk)
    if (this.downCursor.failed) this.finish(`server bytes are not TLS records (${this.downCursor.failed.message})`)
    else if (this.down > this.o.windowBytes) this.finish(`past the first ${this.o.windowBytes} server bytes`)
    return undefined
  }

  /** Client → server bytes after the first flight. */
  client(chunk: Uint8Array, now: number): void {
    if (this.st !== 'watching') return
    this.up += chunk.length
    for (const h of this.upCursor.push(chunk)) {
      if (h.type !== ContentType.applicationData) continue
      // RFC 8446 §2: in TLS 1.3 the client's Finished travels as application_data.
      if (this.finishedAhead) {
        this.finishedAhead = false
        continue
      }
      if (this.firstExchange) this.requestAt ??= now
    }
    if (this.upCursor.failed) this.finish(`client bytes are not TLS records (${this.upCursor.failed.message})`)
  }

  /** The client is not taking what the server sent (its socket has a backlog): time until now is not the path's. */
  clientHolding(now: number): void {
    this.heldAt = now
  }

  /** The connection ended (FIN or close): nothing more to judge. */
  ended(why: string): void {
    if (this.st === 'watching') this.finish(why)
  }

  /** When check() would judge a stall if nothing else happens; undefined while nobody waits. */
  deadline(): number | undefined {
    const since = this.waitingSince()
    if (since === undefined) return undefined
    const bound = this.downCursor.midRecord ? this.o.midRecordMs : this.o.unansweredMs
    return since + Math.max(bound, this.o.gapFactor * this.longestWait)
  }

  check(now: number): Stall | undefined {
    if (this.st !== 'watching') return undefined
    const at = this.deadline()
    if (at === undefined || now < at) return undefined
    this.st = 'stalled'
    this.stall = {
      kind: this.downCursor.midRecord ? 'mid-record' : 'unanswered',
      down: this.down,
      up: this.up,
      silentMs: now - this.waitingSince()!,
      downMs: this.firstDownAt === undefined ? 0 : this.lastDownAt - this.firstDownAt,
      longestWaitMs: this.longestWait,
    }
    return this.stall
  }

  /** Since when the client has been waiting on the server, as far as the path is concerned. */
  private waitingSince(): number | undefined {
    const since = this.downCursor.midRecord ? this.lastDownAt : this.requestAt
    return since === undefined ? undefined : Math.max(since, this.heldAt)
  }

  private finish(why: string): void {
    this.st = 'done'
    this.doneWhy = why
  }
}

/** One line for the planner's log. */
export function describeStall(s: Stall): string {
  const what = s.kind === 'mid-record' ? 'the server stopped inside a TLS record' : "the client's first request got no answer"
  const r = Math.round
  return `${what} after ${s.down} B down / ${s.up} B up (those came in ${r(s.downMs)} ms, then ${r(s.silentMs)} ms of silence; longest wait before it ${r(s.longestWaitMs)} ms)`
}

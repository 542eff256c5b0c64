// The optional io_uring data path for the handed-over socket (native/uring.cc): the same Duplex as
// KernelTlsSocket, but each read is an IORING_OP_RECVMSG and each write an IORING_OP_SENDMSG whose
// completion arrives through the ring's eventfd. There is no readiness step: the kernel parks an
// operation that cannot complete yet and finishes it when the socket can, so there is no recvmsg
// that ends in EAGAIN and no separate poll to arm. One recv and one send in flight at a time (a
// byte stream must be read in order). The fd is made blocking for the ring's sake (uring.cc): the
// kernel completes a read only with a whole record, never with EAGAIN.

import { Duplex } from 'node:stream'
import { ContentType } from './constants.js'
import { deliverRecord } from './kernel-record.js'
import { errnoName, type KtlsAddon, type UringHandle } from './native.js'

const RECV = 1
const SEND = 2
const EAGAIN = 'EAGAIN'

export type UringOpen = { ok: true; ring: UringHandle; attach(s: UringTlsSocket): void } | { ok: false; reason: string }

/**
 * Sets up a ring on fd. Its completions go to the socket attached afterwards (the ring must exist
 * before the socket, so that a failed setup can leave the plain path in charge).
 */
export function openRing(addon: KtlsAddon, fd: number): UringOpen {
  let target: UringTlsSocket | undefined
  const r = addon.uringOpen(fd, (kind, res, type, data) => target?.onCompletion(kind, res, type, data))
  if ('step' in r) return { ok: false, reason: `${errnoName(r.errno)} from ${r.step}` }
  return { ok: true, ring: r, attach: (s) => (target = s) }
}

export class UringTlsSocket extends Duplex {
  readonly io = 'uring'
  readonly control = { tickets: 0, alerts: [] as number[][] }
  private recvInFlight = false
  private wantRead = false
  private sending?: { data: Uint8Array; at: number; queued: number; type: number; cb: (e?: Error | null) => void }
  private ring?: UringHandle

  constructor(
    private readonly addon: KtlsAddon,
    opened: Extract<UringOpen, { ok: true }>,
    private fd: number,
    alreadyDecrypted: Uint8Array[] = [],
    private readonly trace?: (line: string) => void,
  ) {
    super({ readableHighWaterMark: 128 * 1024 })
    this.ring = opened.ring
    opened.attach(this)
    for (const d of alreadyDecrypted) this.push(d)
  }

  /** io_uring_enter calls, eventfd wakeups and completions so far (for the bench). */
  stats(): { enters?: number; wakeups?: number; completions?: number } {
    return this.ring ? this.addon.uringStats(this.ring) : {}
  }

  override _read(): void {
    this.wantRead = true
    this.submitRecv()
  }

  private submitRecv(): void {
    if (!this.ring || this.recvInFlight || !this.wantRead || this.destroyed) return
    const e = this.addon.uringRecv(this.ring)
    this.trace?.(`uring recvmsg submitted -> ${e}`)
    if (e !== 0) return void this.destroy(new Error(`io_uring recvmsg submit: ${errnoName(e)}`))
    this.recvInFlight = true
  }

  /** Called from the ring's eventfd callback, one completion at a time. */
  onCompletion(kind: number, res: number, recordType: number, data?: Buffer): void {
    this.trace?.(`uring ${kind === RECV ? 'recvmsg' : 'sendmsg'} res=${res} type=${recordType}`)
    if (kind === RECV) this.received(res, recordType, data)
    else if (kind === SEND) this.sent(res)
  }

  private received(res: number, recordType: number, data?: Buffer): void {
    this.recvInFlight = false
    if (this.destroyed) return
    // The ring clears O_NONBLOCK so the kernel waits for whole records itself; should an EAGAIN
    // come back anyway (the socket's flags changed under us), asking again is still correct.
    if (res < 0 && errnoName(-res) === EAGAIN) return this.submitRecv()
    // EBADMSG: a record failed authentication (wrong rec_seq or corrupted) — notes §1.4.
    if (res < 0) return void this.destroy(new Error(`kTLS io_uring recvmsg: ${errnoName(-res)}`))
    if (res === 0) {
      this.wantRead = false
      this.push(null)
      return
    }
    const next = deliverRecord(this, this.control, recordType, data!)
    if (next === 'stop') return void (this.wantRead = false)
    if (next === 'full') this.wantRead = false
    this.submitRecv()
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.sending = { data: chunk, at: 0, queued: 0, type: ContentType.applicationData, cb }
    this.submitSend()
  }

  override _final(cb: (e?: Error | null) => void): void {
    // close_notify (RFC 8446 §6.1) as an alert record the kernel encrypts.
    this.sending = { data: Uint8Array.of(1, 0), at: 0, queued: 0, type: ContentType.alert, cb }
    this.submitSend()
  }

  private submitSend(): void {
    const s = this.sending!
    if (!this.ring) return s.cb(new Error('kTLS io_uring: socket closed'))
    const n = this.addon.uringSend(this.ring, s.data.subarray(s.at), s.type)
    this.trace?.(`uring sendmsg ${s.data.length - s.at} submitted -> ${n}`)
    if (n < 0) {
      this.sending = undefined
      return s.cb(new Error(`io_uring sendmsg submit: ${errnoName(-n)}`))
    }
    s.queued = n
  }

  private sent(res: number): void {
    const s = this.sending
    if (!s) return
    if (res < 0 && errnoName(-res) === EAGAIN) return this.submitSend()
    if (res < 0) {
      this.sending = undefined
      return s.cb(new Error(`kTLS io_uring sendmsg: ${errnoName(-res)}`))
    }
    if (res === 0) {
      this.sending = undefined
      return s.cb(new Error('kTLS io_uring sendmsg: sent nothing'))
    }
    // A short send (or one capped at the ring's buffer) continues where it stopped.
    s.at += res
    if (s.at < s.data.length) return this.submitSend()
    this.sending = undefined
    s.cb()
  }

  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    // The ring first: it cancels what is in flight and waits for it, then the fd can go.
    if (this.ring) this.addon.uringClose(this.ring)
    this.ring = undefined
    if (this.fd >= 0) this.addon.close(this.fd)
    this.fd = -1
    const s = this.sending
    this.sending = undefined
    s?.cb(err ?? new Error('kTLS io_uring: socket destroyed'))
    cb(err)
  }
}

// The user-facing stream once the kernel holds the keys (notes §5.4): reads with recvmsg and the
// record-type cmsg, so NewSessionTickets and alerts arrive as control records instead of EIO;
// writes with sendmsg (application data), close_notify with record type 21. Readiness comes from a
// libuv poll handle on our own dup()ed fd.

import { Duplex } from 'node:stream'
import { ContentType } from './constants.js'
import { errnoName, type KtlsAddon, type PollHandle } from './native.js'
import { deliverRecord } from './kernel-record.js'

const READABLE = 1
const WRITABLE = 2
const EAGAIN = 'EAGAIN'
const RECV_BUFFER = 128 * 1024

export class KernelTlsSocket extends Duplex {
  readonly io = 'plain'
  /**
   * The kernel fills a recvmsg buffer with as many consecutive data records as fit (a control record
   * always comes alone), so a buffer of many records means fewer syscalls and JS round trips than one
   * of a single record (16 KiB).
   */
  private readonly buf = new Uint8Array(RECV_BUFFER)
  private poll?: PollHandle
  private wantRead = false
  private pendingWrite?: { data: Uint8Array; type: number; cb: (e?: Error | null) => void }
  /** Control records seen, for the caller's report (tickets are ignored: no resumption here). */
  readonly control = { tickets: 0, alerts: [] as number[][] }

  constructor(
    private readonly addon: KtlsAddon,
    private fd: number,
    alreadyDecrypted: Uint8Array[] = [],
    /** Diagnostics: one line per syscall result and poll event (no payload bytes). */
    private readonly trace?: (line: string) => void,
  ) {
    super({ readableHighWaterMark: RECV_BUFFER })
    for (const d of alreadyDecrypted) this.push(d)
    this.poll = addon.pollStart(fd, 0, (status, events) => this.onPoll(status, events))
  }

  /**
   * libuv's poll is level-triggered (epoll without EPOLLET): while we want to read, the fd stays
   * watched and fires as long as the kernel has a record for us. When the stream's buffer is full we
   * stop watching; the next _read drains with recvmsg until EAGAIN before watching again, so records
   * that queued up meanwhile never depend on a fresh event.
   */
  private watch(): void {
    if (!this.poll || this.destroyed) return
    const events = this.events()
    const rc = this.addon.pollUpdate(this.poll, events)
    this.trace?.(`pollUpdate events=${events} -> ${rc}`)
    if (rc !== 0) return void this.destroy(new Error(`libuv poll on the kTLS socket failed (${rc})`))
  }

  private events(): number {
    return (this.wantRead ? READABLE : 0) | (this.pendingWrite ? WRITABLE : 0)
  }

  private onPoll(status: number, events: number): void {
    this.trace?.(`poll status=${status} events=${events}`)
    if (status < 0) return void this.destroy(new Error(`poll on the kTLS socket failed (${status})`))
    if (events & READABLE) this.readRecords()
    if (events & WRITABLE && this.pendingWrite) {
      const w = this.pendingWrite
      this.pendingWrite = undefined
      this.writeAll(w.data, w.cb, w.type)
    }
    this.watch()
  }

  override _read(): void {
    this.trace?.('_read')
    this.wantRead = true
    this.readRecords()
    this.watch()
  }

  private readRecords(): void {
    while (this.wantRead && !this.destroyed) {
      const r = this.addon.recvmsg(this.fd, this.buf)
      this.trace?.(`recvmsg n=${r.n} type=${r.recordType} errno=${r.errno}`)
      if (r.n < 0) {
        const name = errnoName(r.errno)
        if (name === EAGAIN) return
        // EBADMSG: a record failed authentication (wrong rec_seq or corrupted) — notes §1.4.
        return void this.destroy(new Error(`kTLS recvmsg: ${name}`))
      }
      if (r.n === 0) {
        this.wantRead = false
        this.push(null)
        return
      }
      const next = deliverRecord(this, this.control, r.recordType, this.buf.slice(0, r.n))
      if (next === 'stop') return void (this.wantRead = false)
      if (next === 'full') this.wantRead = false
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.writeAll(chunk, cb)
  }

  private writeAll(data: Uint8Array, cb: (e?: Error | null) => void, type: number = ContentType.applicationData): void {
    let at = 0
    while (at < data.length) {
      const n = this.addon.sendmsg(this.fd, data.subarray(at), type)
      this.trace?.(`sendmsg ${data.length - at} -> ${n}`)
      if (n < 0) {
        if (errnoName(-n) === EAGAIN) {
          this.pendingWrite = { data: data.subarray(at), type, cb }
          this.watch()
          return
        }
        return cb(new Error(`kTLS sendmsg: ${errnoName(-n)}`))
      }
      at += n
    }
    cb()
  }

  override _final(cb: (e?: Error | null) => void): void {
    // close_notify (RFC 8446 §6.1) as an alert record the kernel encrypts; it waits for room like data.
    this.writeAll(Uint8Array.of(1, 0), cb, ContentType.alert)
  }

  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    if (this.poll) this.addon.pollClose(this.poll)
    this.poll = undefined
    if (this.fd >= 0) this.addon.close(this.fd)
    this.fd = -1
    cb(err)
  }
}

// A stream at the edge of a circuit (the exit, or a directory cache answering BEGIN_DIR): the part
// common to every kind of edge. Toward the client it packages bytes into DATA cells of at most 498
// bytes and never past the stream package window (500, +50 per stream SENDME) or the circuit's
// (1000, +100 per authenticated SENDME); while blocked it asks its source to stop producing, so
// nothing is buffered beyond what one read brought. From the client it counts DATA against the
// stream deliver window and sends a stream SENDME each time 50 cells have been handed on and the
// sink has room again. END either way closes the stream as tor does (no half-close in Tor).

import type { World } from '../../net/world.js'
import { RELAY_DATA_MAX } from '../../wire/tor/relay-cell.js'
import { EndReason, type RelayMsg } from '../../wire/tor/relay-msg.js'
import { FlowControlError, StreamWindows } from '../circuit/flow-control.js'

/** What an edge stream needs from its circuit. */
export interface EdgeCircuit {
  readonly world: World
  /** True while the circuit package window lets one more DATA cell go. */
  canPackage(): boolean
  /** Sends one DATA cell (the caller checked both windows). */
  sendData(streamId: number, data: Uint8Array): void
  /** Sends any other relay message from this hop on the stream. */
  sendRelay(msg: RelayMsg, streamId: number): void
  /** Asks to be pumped again once a circuit SENDME opened the window. */
  waitForCircuitWindow(stream: EdgeStream): void
  removeStream(streamId: number): void
  /** The client broke the protocol: the whole circuit goes. */
  protocolViolation(why: string): void
}

export abstract class EdgeStream {
  protected readonly windows = new StreamWindows()
  private readonly outbound: Uint8Array[] = []
  private sourceEnded = false
  private sinkBlocked = false
  state: 'connecting' | 'open' | 'closed' = 'connecting'
  /** Bytes sent toward the client and received from it. */
  bytesOut = 0
  bytesIn = 0

  constructor(
    protected readonly circuit: EdgeCircuit,
    readonly streamId: number,
  ) {}

  /** A relay message from the client for this stream. */
  onMessage(msg: RelayMsg): void {
    if (this.state === 'closed') return
    switch (msg.cmd) {
      case 'DATA':
        try {
          this.windows.onDataReceived()
        } catch (e) {
          return this.circuit.protocolViolation((e as FlowControlError).message)
        }
        this.bytesIn += msg.data.length
        this.sinkBlocked = !this.deliver(msg.data)
        this.considerSendme()
        return
      case 'SENDME':
        try {
          this.windows.onSendme()
        } catch (e) {
          return this.circuit.protocolViolation((e as FlowControlError).message)
        }
        this.pump()
        return
      case 'END':
        this.state = 'closed'
        this.circuit.removeStream(this.streamId)
        this.outbound.length = 0
        this.onClientEnd(msg.reason)
        return
      default:
        return this.circuit.protocolViolation(`${msg.cmd} on an open stream`)
    }
  }

  /**
   * Hands client bytes to the sink; false when the sink is full (stream SENDMEs then wait for
   * sinkDrained(), which is what slows a client uploading faster than the target reads).
   */
  protected abstract deliver(data: Uint8Array): boolean
  /** The client ended the stream: close the sink (after flushing what it holds). */
  protected abstract onClientEnd(reason: number): void
  /** Stop / resume producing bytes toward the client. */
  protected abstract pauseSource(): void
  protected abstract resumeSource(): void
  /** The circuit is gone: drop everything now. */
  abstract abort(): void

  /** The sink took what it held; stream SENDMEs may go again. */
  protected sinkDrained(): void {
    this.sinkBlocked = false
    this.considerSendme()
  }

  private considerSendme(): void {
    while (this.state !== 'closed' && !this.sinkBlocked && this.windows.sendmeDue()) {
      // Stream-level SENDMEs carry no digest (tor-spec §7.4; prop 289 authenticates circuit level only).
      this.circuit.sendRelay({ cmd: 'SENDME', version: 0 }, this.streamId)
      this.windows.onSendmeSent()
    }
  }

  /** Bytes from the source toward the client. */
  protected produce(data: Uint8Array): void {
    if (this.state === 'closed' || data.length === 0) return
    this.outbound.push(data)
    this.pump()
  }

  /** The source has no more bytes: END DONE goes once everything before it has been packaged. */
  protected produceEnd(): void {
    if (this.state === 'closed') return
    this.sourceEnded = true
    this.pump()
  }

  /** Packages as much as both windows allow; called again when a SENDME arrives. */
  pump(): void {
    while (this.state === 'open' && this.outbound.length > 0) {
      if (!this.windows.canPackage()) break
      if (!this.circuit.canPackage()) {
        this.circuit.waitForCircuitWindow(this)
        break
      }
      const head = this.outbound[0]
      const n = Math.min(head.length, RELAY_DATA_MAX)
      this.circuit.sendData(this.streamId, head.subarray(0, n))
      this.windows.onDataSent()
      this.bytesOut += n
      if (n === head.length) this.outbound.shift()
      else this.outbound[0] = head.subarray(n)
    }
    if (this.state !== 'open') return
    if (this.outbound.length > 0) return this.pauseSource()
    if (this.sourceEnded) return this.end(EndReason.DONE)
    this.resumeSource()
  }

  /** Closes the stream from our side with END `reason`. */
  protected end(reason: number): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.outbound.length = 0
    this.circuit.removeStream(this.streamId)
    this.circuit.sendRelay({ cmd: 'END', reason }, this.streamId)
    this.onClosedByUs()
  }

  /** After we sent END: release the source/sink. */
  protected abstract onClosedByUs(): void
}

// Fixed-window flow control (tor-spec §7.3, §7.4; flow-control.html) as pure accounting, no I/O.
// Circuit level: windows of 1000 DATA cells, SENDMEs in increments of 100, authenticated (SENDME
// v1, prop 289): the sender remembers the running digest of every 100th DATA cell it sent and each
// SENDME must echo the oldest one. Stream level: windows of 500, unauthenticated SENDMEs of 50.
// Only DATA cells count. A peer that overruns our deliver window has broken the protocol.

import { equalBytes } from '../../wire/bytes.js'
import { SENDME_DIGEST_LEN } from '../../wire/tor/relay-msg.js'

export const CIRCWINDOW_START = 1000
export const CIRCWINDOW_INCREMENT = 100
export const STREAMWINDOW_START = 500
export const STREAMWINDOW_INCREMENT = 50

export class FlowControlError extends Error {
  override readonly name = 'FlowControlError'
}

export class CircuitWindows {
  packageWindow = CIRCWINDOW_START
  deliverWindow = CIRCWINDOW_START
  /** Digests of the DATA cells we sent that a SENDME must acknowledge, oldest first. */
  private readonly expectedDigests: Uint8Array[] = []

  canPackage(): boolean {
    return this.packageWindow > 0
  }

  /** After sending a DATA cell whose running digest (20 bytes) was `digest`. */
  onDataSent(digest: Uint8Array): void {
    if (this.packageWindow <= 0) throw new FlowControlError('sent DATA past the circuit package window')
    // The cell that brings the window to a multiple of 100 is the one the peer's SENDME will name.
    if ((this.packageWindow - 1) % CIRCWINDOW_INCREMENT === 0) this.expectedDigests.push(digest.slice(0, SENDME_DIGEST_LEN))
    this.packageWindow--
  }

  /** A circuit-level SENDME arrived: v1 must carry the oldest remembered digest. */
  onSendme(version: number, digest?: Uint8Array): void {
    const want = this.expectedDigests.shift()
    if (!want) throw new FlowControlError('circuit SENDME with no DATA awaiting acknowledgement')
    if (version === 1) {
      if (!digest || !equalBytes(digest.subarray(0, SENDME_DIGEST_LEN), want)) throw new FlowControlError('SENDME v1 digest does not match the cell it acknowledges')
    } else if (version !== 0) {
      throw new FlowControlError(`SENDME version ${version}`)
    }
    if (this.packageWindow + CIRCWINDOW_INCREMENT > CIRCWINDOW_START) throw new FlowControlError('SENDME would open the window past its start')
    this.packageWindow += CIRCWINDOW_INCREMENT
  }

  /**
   * A DATA cell arrived with running digest `digest`. Returns the digest our SENDME v1 must carry
   * when one is due now (and counts it as sent), else undefined. Throws on overrun.
   */
  onDataReceived(digest: Uint8Array): Uint8Array | undefined {
    this.deliverWindow--
    if (this.deliverWindow < 0) throw new FlowControlError('peer overran the circuit deliver window')
    if (this.deliverWindow <= CIRCWINDOW_START - CIRCWINDOW_INCREMENT) {
      this.deliverWindow += CIRCWINDOW_INCREMENT
      return digest.slice(0, SENDME_DIGEST_LEN)
    }
    return undefined
  }
}

export class StreamWindows {
  packageWindow = STREAMWINDOW_START
  deliverWindow = STREAMWINDOW_START

  canPackage(): boolean {
    return this.packageWindow > 0
  }

  onDataSent(): void {
    if (this.packageWindow <= 0) throw new FlowControlError('sent DATA past the stream package window')
    this.packageWindow--
  }

  onSendme(): void {
    if (this.packageWindow + STREAMWINDOW_INCREMENT > STREAMWINDOW_START) throw new FlowControlError('stream SENDME would open the window past its start')
    this.packageWindow += STREAMWINDOW_INCREMENT
  }

  onDataReceived(): void {
    this.deliverWindow--
    if (this.deliverWindow < 0) throw new FlowControlError('peer overran the stream deliver window')
  }

  /** True when a stream SENDME is due (window at or below 450); the caller sends it once consumed. */
  sendmeDue(): boolean {
    return this.deliverWindow <= STREAMWINDOW_START - STREAMWINDOW_INCREMENT
  }

  onSendmeSent(): void {
    this.deliverWindow += STREAMWINDOW_INCREMENT
  }
}

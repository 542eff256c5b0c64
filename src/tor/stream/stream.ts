// A stream on a circuit (tor-spec §6): opened with BEGIN (a hostname is resolved by the exit) or
// BEGIN_DIR, answered by CONNECTED or END, then DATA both ways, closed by END. Each stream is a
// Node Duplex; its relay messages arrive through its own endpoint (routed by stream id). Writes
// are cut into DATA cells of at most 498 bytes and never go past the stream or circuit package
// window; a stream SENDME goes back once the reader has taken the data, so a slow reader slows
// the exit instead of filling memory. Tor has no half-close: END closes both directions.
// Received DATA is pushed once per channel read, not once per cell: the cells that arrived
// together are held until the microtask after that read (Node drains microtasks after each socket
// 'data' event) and pushed as one chunk, so a reader (or a pipe to a socket) sees a few KiB per
// event instead of 498 bytes.

import { Duplex } from 'node:stream'
import type { Timer, World } from '../../net/world.js'
import { RELAY_DATA_MAX } from '../../wire/tor/relay-cell.js'
import { EndReason, endReasonName, type RelayMsg, type ResolvedAnswer } from '../../wire/tor/relay-msg.js'
import type { Circuit, StreamEndpoint } from '../circuit/circuit.js'
import { StreamWindows, FlowControlError } from '../circuit/flow-control.js'
import { CircuitError, StreamError } from '../errors.js'
import { DestroyReason } from '../../wire/tor/chan-msg.js'

export const DEFAULT_STREAM_TIMEOUT_MS = 60_000

export class TorStream extends Duplex implements StreamEndpoint {
  readonly streamId: number
  private readonly windows = new StreamWindows()
  private state: 'connecting' | 'open' | 'closed' = 'connecting'
  private connectWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined
  private sendmePending = false
  private packageWaiter: (() => void) | undefined
  /** DATA of this read's cells, not pushed yet (see release). */
  private held: Uint8Array[] = []
  /** END reason the exit gave, once it closed the stream. */
  endReason: number | undefined
  /** CONNECTED's address (4 or 16 bytes) when the exit reported one. */
  connectedAddress: Uint8Array | undefined

  constructor(
    private readonly circuit: Circuit,
  ) {
    super({ allowHalfOpen: true })
    this.streamId = circuit.addStream(this)
  }

  /** Sends BEGIN (or BEGIN_DIR) and resolves once CONNECTED arrives; rejects with a StreamError. */
  static async open(world: World, circuit: Circuit, target: { host: string; port: number } | 'dir', timeoutMs = DEFAULT_STREAM_TIMEOUT_MS): Promise<TorStream> {
    const s = new TorStream(circuit)
    const connected = new Promise<void>((resolve, reject) => {
      s.connectWaiter = { resolve, reject }
    })
    const timer: Timer = world.setTimer(timeoutMs, () => s.fail(new StreamError('timeout', `no CONNECTED within ${timeoutMs} ms`), EndReason.TIMEOUT))
    try {
      if (target === 'dir') circuit.sendRelay({ cmd: 'BEGIN_DIR' }, s.streamId)
      else {
        const host = target.host.includes(':') && !target.host.startsWith('[') ? `[${target.host}]` : target.host
        circuit.sendRelay({ cmd: 'BEGIN', address: host.toLowerCase(), port: target.port, flags: 0 }, s.streamId)
      }
      await connected
    } catch (e) {
      s.fail(e instanceof StreamError ? e : new StreamError('circuit', (e as Error).message))
      throw e instanceof StreamError ? e : new StreamError('circuit', (e as Error).message)
    } finally {
      timer.cancel()
    }
    return s
  }

  onMessage(msg: RelayMsg): void {
    if (this.state === 'closed') return
    // Anything but DATA comes after the DATA held before it (END must not overtake its data).
    if (msg.cmd !== 'DATA') this.release()
    switch (msg.cmd) {
      case 'CONNECTED':
        if (this.state !== 'connecting') return this.protocolViolation('second CONNECTED')
        this.state = 'open'
        this.connectedAddress = msg.address
        this.connectWaiter?.resolve()
        this.connectWaiter = undefined
        return
      case 'DATA':
        if (this.state !== 'open') return this.protocolViolation('DATA before CONNECTED')
        try {
          this.windows.onDataReceived()
        } catch (e) {
          // A peer that overruns our deliver window loses the circuit.
          this.circuit.destroy(DestroyReason.PROTOCOL, new CircuitError('protocol', (e as FlowControlError).message))
          return
        }
        if (this.held.length === 0) queueMicrotask(() => this.release())
        this.held.push(msg.data)
        return
      case 'SENDME':
        try {
          this.windows.onSendme()
        } catch (e) {
          this.circuit.destroy(DestroyReason.PROTOCOL, new CircuitError('protocol', (e as FlowControlError).message))
          return
        }
        this.packageWaiter?.()
        this.packageWaiter = undefined
        return
      case 'END': {
        this.endReason = msg.reason
        this.circuit.removeStream(this.streamId)
        if (this.state === 'connecting') {
          this.state = 'closed'
          const err = new StreamError('end', `exit refused the stream (${endReasonName(msg.reason)})`, msg.reason)
          this.connectWaiter?.reject(err)
          this.connectWaiter = undefined
          this.destroy()
          return
        }
        this.state = 'closed'
        this.packageWaiter?.()
        this.push(null)
        // Once the reader has everything, the stream is over in both directions.
        this.once('end', () => this.destroy())
        return
      }
      default:
        return this.protocolViolation(`unexpected ${msg.cmd} on a stream`)
    }
  }

  /** Pushes the held DATA as one chunk; the stream SENDMEs it made due go once the reader has room. */
  private release(): void {
    if (this.held.length === 0) return
    const parts = this.held
    this.held = []
    if (this.state !== 'open' || this.destroyed) return // failed meanwhile: the data goes with the stream
    try {
      // Buffer.concat: the chunk is for a Node stream anyway, and it skips zero-filling what it overwrites.
      if (this.push(parts.length === 1 ? parts[0] : Buffer.concat(parts))) this.maybeSendSendme()
      else if (this.windows.sendmeDue()) this.sendmePending = true
    } catch (e) {
      // A SENDME that found the channel gone: the circuit has closed and failed this stream. Out
      // here (a microtask) nothing else would catch it.
      if (!(e instanceof CircuitError)) throw e
    }
  }

  private protocolViolation(what: string): void {
    this.circuit.destroy(DestroyReason.PROTOCOL, new CircuitError('protocol', what))
  }

  onCircuitClosed(error: CircuitError): void {
    if (this.state === 'closed') return
    this.fail(new StreamError('circuit', error.message, error.reason), undefined, false)
  }

  private maybeSendSendme(): void {
    while (this.state === 'open' && this.windows.sendmeDue() && !this.circuit.closed) {
      // Stream-level SENDMEs carry no digest (tor-spec §7.4).
      this.circuit.sendRelay({ cmd: 'SENDME', version: 0 }, this.streamId)
      this.windows.onSendmeSent()
    }
    this.sendmePending = false
  }

  /** Ends the stream with an error; sends END unless the circuit is gone. */
  private fail(err: StreamError, endReason: number = EndReason.MISC, sendEnd = true): void {
    const wasOpen = this.state !== 'closed'
    // Before CONNECTED nobody holds this stream but open()'s promise, which gets the error; an
    // 'error' event then would have no listener and take the process down.
    const handedOut = this.state === 'open'
    this.state = 'closed'
    this.circuit.removeStream(this.streamId)
    if (wasOpen && sendEnd && !this.circuit.closed) {
      try {
        this.circuit.sendRelay({ cmd: 'END', reason: endReason }, this.streamId)
      } catch {
        /* circuit died meanwhile */
      }
    }
    this.connectWaiter?.reject(err)
    this.connectWaiter = undefined
    this.packageWaiter?.()
    if (handedOut) this.destroy(err)
    else this.destroy()
  }

  override _read(): void {
    if (this.sendmePending) this.maybeSendSendme()
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.writeCells(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)).then(() => cb(), cb)
  }

  private async writeCells(data: Uint8Array): Promise<void> {
    for (let off = 0; off < data.length; off += RELAY_DATA_MAX) {
      for (;;) {
        if (this.state !== 'open') throw new StreamError('end', 'stream is closed', this.endReason)
        if (!this.windows.canPackage()) {
          await new Promise<void>((r) => (this.packageWaiter = r))
          continue
        }
        if (!this.circuit.canSendData()) {
          if (this.circuit.closed) throw new StreamError('circuit', this.circuit.closeError?.message ?? 'circuit closed')
          await this.circuit.whenCanSendData()
          continue
        }
        break
      }
      this.circuit.sendData(this.streamId, data.subarray(off, Math.min(data.length, off + RELAY_DATA_MAX)))
      this.windows.onDataSent()
    }
  }

  override _final(cb: (e?: Error | null) => void): void {
    cb() // no half-close in Tor: the stream stays open for the answer until either side ENDs it
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (this.state !== 'closed') {
      this.state = 'closed'
      this.circuit.removeStream(this.streamId)
      if (!this.circuit.closed) {
        try {
          this.circuit.sendRelay({ cmd: 'END', reason: EndReason.MISC }, this.streamId)
        } catch {
          /* circuit died meanwhile */
        }
      }
    }
    this.packageWaiter?.()
    cb(err)
  }
}

/** RELAY_RESOLVE (tor-spec §6.4): the exit looks a hostname up; no stream is created. */
export function resolveOnCircuit(world: World, circuit: Circuit, hostname: string, timeoutMs = DEFAULT_STREAM_TIMEOUT_MS): Promise<ResolvedAnswer[]> {
  return new Promise((resolve, reject) => {
    let timer: Timer | undefined
    let streamId = 0
    const done = (fn: () => void) => {
      timer?.cancel()
      circuit.removeStream(streamId)
      fn()
    }
    streamId = circuit.addStream({
      onMessage(msg) {
        if (msg.cmd === 'RESOLVED') done(() => resolve(msg.answers))
        else if (msg.cmd === 'END') done(() => reject(new StreamError('resolve', `exit ended the lookup (${endReasonName(msg.reason)})`, msg.reason)))
        else done(() => reject(new StreamError('protocol', `${msg.cmd} in answer to RESOLVE`)))
      },
      onCircuitClosed(e) {
        done(() => reject(new StreamError('circuit', e.message, e.reason)))
      },
    })
    timer = world.setTimer(timeoutMs, () => done(() => reject(new StreamError('timeout', `no RESOLVED within ${timeoutMs} ms`))))
    try {
      circuit.sendRelay({ cmd: 'RESOLVE', hostname }, streamId)
    } catch (e) {
      done(() => reject(new StreamError('circuit', (e as Error).message)))
    }
  })
}

// A circuit as one relay sees it (tor-spec §5, §6): the previous hop (an inbound channel and the
// circuit id the client side chose), this hop's tor1 layer, and maybe a next hop reached by
// EXTEND2 over an outbound channel. Cells from the client side are decrypted by our layer; one we
// recognise is for us (EXTEND2, stream commands, SENDME …), any other goes on to the next hop —
// and with no next hop, is a protocol violation that costs the circuit. Cells from the next hop
// get our layer and go back. DESTROY travels on in both directions; a closed channel destroys the
// circuits on it with DESTROY to the other side. At the edge, streams and both windows of the
// circuit: DATA we send counts against the package window (1000, +100 per SENDME whose v1
// digest must name the cell that took it to a multiple of 100); DATA we receive is answered by an
// authenticated SENDME every 100 cells, and a client overrunning our deliver window loses the
// circuit.

import type { World } from '../../net/world.js'
import { NtorError } from '../../crypto/tor/ntor.js'
import { Tor1RelayLayer } from '../../crypto/tor/relay-crypto.js'
import type { CircuitKeys } from '../../crypto/tor/kdf-rfc5869.js'
import { WireError } from '../../wire/bytes.js'
import { CELL_BODY_LEN, ChanCmd, type ChannelCell } from '../../wire/tor/cell.js'
import { DestroyReason, chanMsgCell, decodeChanMsg, destroyReasonName } from '../../wire/tor/chan-msg.js'
import { EndReason, ResolvedType, decodeRelayMsgCell, encodeRelayMsgCell, type RelayMsg, type ResolvedAnswer } from '../../wire/tor/relay-msg.js'
import type { Channel, CircuitEndpoint } from '../channel/channel.js'
import { CircuitWindows, FlowControlError } from '../circuit/flow-control.js'
import { MAX_RELAY_EARLY } from '../circuit/circuit.js'
import type { ChannelError } from '../errors.js'
import type { ChannelPool } from './channel-pool.js'
import { DirStream, type DirRequestHandler } from './dir-stream.js'
import type { EdgeCircuit, EdgeStream } from './edge-stream.js'
import { EXIT_TTL_SECONDS, ExitStream, ipv4Octets, type ExitOptions } from './exit-stream.js'

/** Counters an onion router keeps across its circuits. */
export interface RelayCounters {
  circuitsCreated: number
  circuitsOpen: number
  cellsForwarded: number
  cellsBackward: number
  extends: number
  streamsOpened: number
  streamsOpen: number
  protocolViolations: number
}

export function newRelayCounters(): RelayCounters {
  return { circuitsCreated: 0, circuitsOpen: 0, cellsForwarded: 0, cellsBackward: 0, extends: 0, streamsOpened: 0, streamsOpen: 0, protocolViolations: 0 }
}

/** What every circuit of one router shares. */
export interface RelayContext {
  world: World
  pool: ChannelPool
  exit?: ExitOptions
  dirRequest?: DirRequestHandler
  counters: RelayCounters
  /** Set when the router crashes: nothing more is sent anywhere. */
  crashed: boolean
}

/** The channel toward the client: the router's inbound ResponderChannel. */
export interface PrevLink {
  send(cell: ChannelCell): void
  readonly closed: boolean
}

class RelayProtocolError extends Error {
  override readonly name = 'RelayProtocolError'
}

/** The circuit's continuation on an outbound channel, registered like a client circuit. */
class NextHop implements CircuitEndpoint {
  channel: Channel | undefined
  circId = 0
  state: 'connecting' | 'creating' | 'open' = 'connecting'
  constructor(private readonly circuit: RelayCircuit) {}
  onCell(cell: ChannelCell): void {
    this.circuit.onNextCell(cell)
  }
  onChannelClosed(_e: ChannelError): void {
    this.channel = undefined
    this.circuit.onNextGone(DestroyReason.CHANNEL_CLOSED)
  }
}

export class RelayCircuit implements EdgeCircuit {
  private readonly layer: Tor1RelayLayer
  private next: NextHop | undefined
  private readonly streams = new Map<number, EdgeStream>()
  private readonly windows = new CircuitWindows()
  private readonly windowWaiters = new Set<EdgeStream>()
  private relayEarlySeen = 0
  private closedFlag = false
  readonly world: World

  constructor(
    private readonly ctx: RelayContext,
    private readonly prev: PrevLink,
    readonly circId: number,
    keys: CircuitKeys,
    private readonly onClosed: (c: RelayCircuit) => void,
  ) {
    this.world = ctx.world
    this.layer = new Tor1RelayLayer(keys)
    ctx.counters.circuitsCreated++
    ctx.counters.circuitsOpen++
  }

  get closed(): boolean {
    return this.closedFlag
  }

  get streamCount(): number {
    return this.streams.size
  }

  // ---- from the client side ---------------------------------------------------------------

  /** A cell for this circuit from the previous hop. */
  onPrevCell(cell: ChannelCell): void {
    if (this.closedFlag) return
    try {
      this.handlePrevCell(cell)
    } catch (e) {
      if (e instanceof RelayProtocolError || e instanceof WireError || e instanceof FlowControlError || e instanceof NtorError) {
        this.protocolViolation(e.message)
      } else {
        this.world.trace('tor-relay-bug', { stack: (e as Error).stack ?? String(e) })
        this.teardown(DestroyReason.INTERNAL, true, true)
      }
    }
  }

  private handlePrevCell(cell: ChannelCell): void {
    switch (cell.command) {
      case ChanCmd.RELAY:
      case ChanCmd.RELAY_EARLY: {
        const early = cell.command === ChanCmd.RELAY_EARLY
        if (early && ++this.relayEarlySeen > MAX_RELAY_EARLY) throw new RelayProtocolError(`more than ${MAX_RELAY_EARLY} RELAY_EARLY cells`)
        const body = cell.body.slice()
        const digest = this.layer.decryptForward(body)
        if (digest) return this.handleRecognized(body, digest, early)
        const next = this.next
        if (!next || next.state !== 'open' || !next.channel) throw new RelayProtocolError('relay cell recognised by nobody and no next hop to pass it to')
        this.ctx.counters.cellsForwarded++
        try {
          next.channel.send({ circId: next.circId, command: cell.command, body })
        } catch {
          this.onNextGone(DestroyReason.CHANNEL_CLOSED) // the outbound channel died under us
        }
        return
      }
      case ChanCmd.DESTROY: {
        const msg = decodeChanMsg(cell.command, cell.body)
        const reason = msg.cmd === 'DESTROY' ? msg.reason : DestroyReason.NONE
        this.world.trace('tor-relay-circuit-destroyed', { circId: this.circId, by: 'prev', reason: destroyReasonName(reason) })
        this.teardown(reason, false, true)
        return
      }
      case ChanCmd.CREATE2:
      case ChanCmd.CREATE_FAST:
      case ChanCmd.CREATE:
        throw new RelayProtocolError('CREATE on a circuit id already in use')
      default:
        return // other commands have no meaning on a circuit; tor ignores them too
    }
  }

  private handleRecognized(body: Uint8Array, digest: Uint8Array, early: boolean): void {
    const { streamId, msg } = decodeRelayMsgCell(body)
    if (msg.cmd === 'DATA') {
      if (streamId === 0) throw new RelayProtocolError('DATA on stream 0')
      const sendme = this.windows.onDataReceived(digest)
      if (sendme) this.sendRelay({ cmd: 'SENDME', version: 1, digest: sendme }, 0)
      this.streams.get(streamId)?.onMessage(msg) // a stream we already closed: counted and dropped
      return
    }
    if (streamId === 0) {
      switch (msg.cmd) {
        case 'EXTEND2':
          if (!early) throw new RelayProtocolError('EXTEND2 outside RELAY_EARLY')
          return this.extend(msg)
        case 'SENDME':
          this.windows.onSendme(msg.version, msg.version === 1 ? msg.digest : undefined)
          for (const s of [...this.windowWaiters]) {
            this.windowWaiters.delete(s)
            s.pump()
          }
          return
        case 'TRUNCATE':
          this.dropNext(DestroyReason.REQUESTED)
          this.sendRelay({ cmd: 'TRUNCATED', reason: DestroyReason.REQUESTED }, 0)
          return
        case 'DROP':
        case 'unrecognized':
          return
        default:
          throw new RelayProtocolError(`${msg.cmd} on stream 0`)
      }
    }
    switch (msg.cmd) {
      case 'BEGIN':
        return this.begin(streamId, msg.address, msg.port)
      case 'BEGIN_DIR':
        return this.beginDir(streamId)
      case 'RESOLVE':
        return this.resolve(streamId, msg.hostname)
      case 'END':
      case 'SENDME':
        this.streams.get(streamId)?.onMessage(msg)
        return
      case 'DROP':
      case 'unrecognized':
        return
      default:
        throw new RelayProtocolError(`${msg.cmd} from the client on stream ${streamId}`)
    }
  }

  // ---- streams at this hop ----------------------------------------------------------------

  private begin(streamId: number, host: string, port: number): void {
    if (this.streams.has(streamId)) throw new RelayProtocolError(`BEGIN on stream ${streamId}, which is open`)
    const exit = this.ctx.exit
    if (!exit) {
      this.sendRelay({ cmd: 'END', reason: EndReason.EXITPOLICY }, streamId)
      return
    }
    const s = new ExitStream(this, streamId)
    this.addStream(s)
    s.begin(host, port, exit)
  }

  private beginDir(streamId: number): void {
    if (this.streams.has(streamId)) throw new RelayProtocolError(`BEGIN_DIR on stream ${streamId}, which is open`)
    const handler = this.ctx.dirRequest
    if (!handler) {
      this.sendRelay({ cmd: 'END', reason: EndReason.NOTDIRECTORY }, streamId)
      return
    }
    const s = new DirStream(this, streamId, handler)
    this.addStream(s)
    s.begin()
  }

  /** RESOLVE (tor-spec §6.4): an IPv4 answer from the exit's resolver, or a non-transient error. */
  private resolve(streamId: number, hostname: string): void {
    const exit = this.ctx.exit
    const addr = ipv4Octets(hostname) ? hostname : exit?.resolve?.(hostname)
    const octets = exit ? ipv4Octets(addr) : undefined
    const answers: ResolvedAnswer[] = octets
      ? [{ type: ResolvedType.IPV4, value: octets, ttl: EXIT_TTL_SECONDS }]
      : [{ type: ResolvedType.ERROR_NONTRANSIENT, value: new Uint8Array(0), ttl: 0 }]
    this.sendRelay({ cmd: 'RESOLVED', answers }, streamId)
  }

  private addStream(s: EdgeStream): void {
    this.streams.set(s.streamId, s)
    this.ctx.counters.streamsOpened++
    this.ctx.counters.streamsOpen++
  }

  // EdgeCircuit, for the streams

  canPackage(): boolean {
    return !this.closedFlag && this.windows.canPackage()
  }

  sendData(streamId: number, data: Uint8Array): void {
    const digest = this.sendRelay({ cmd: 'DATA', data }, streamId)
    if (digest) this.windows.onDataSent(digest)
  }

  /** Originates a relay message toward the client; returns its running digest. */
  sendRelay(msg: RelayMsg, streamId: number): Uint8Array | undefined {
    if (this.closedFlag || this.ctx.crashed) return undefined
    const body = encodeRelayMsgCell(msg, streamId, this.world.random(CELL_BODY_LEN))
    const digest = this.layer.originateBackward(body)
    this.prev.send({ circId: this.circId, command: ChanCmd.RELAY, body })
    return digest
  }

  waitForCircuitWindow(stream: EdgeStream): void {
    this.windowWaiters.add(stream)
  }

  removeStream(streamId: number): void {
    const s = this.streams.get(streamId)
    if (!s) return
    this.streams.delete(streamId)
    this.windowWaiters.delete(s)
    this.ctx.counters.streamsOpen--
  }

  protocolViolation(why: string): void {
    if (this.closedFlag) return
    this.ctx.counters.protocolViolations++
    this.world.trace('tor-relay-protocol-violation', { circId: this.circId, why })
    this.teardown(DestroyReason.PROTOCOL, true, true)
  }

  // ---- the next hop -----------------------------------------------------------------------

  private extend(msg: Extract<RelayMsg, { cmd: 'EXTEND2' }>): void {
    if (this.next) throw new RelayProtocolError('EXTEND2 on a circuit that already has a next hop')
    let v4: { address: Uint8Array; port: number } | undefined
    let rsaId: Uint8Array | undefined
    let ed25519Id: Uint8Array | undefined
    for (const ls of msg.linkSpecifiers) {
      if (ls.lstype === 0) v4 ??= ls
      else if (ls.lstype === 2) rsaId ??= ls.rsaId
      else if (ls.lstype === 3) ed25519Id ??= ls.ed25519Id
    }
    if (!v4 || !rsaId) throw new RelayProtocolError('EXTEND2 without an IPv4 address and an RSA identity')
    const host = [...v4.address].join('.')
    const port = v4.port
    const next = new NextHop(this)
    this.next = next
    this.ctx.counters.extends++
    this.world.trace('tor-relay-extend', { circId: this.circId, to: `${host}:${port}` })
    this.ctx.pool.get({ host, port, rsaId, ...(ed25519Id ? { ed25519Id } : {}) }).then(
      (ch) => {
        if (this.closedFlag || this.next !== next) return
        try {
          next.circId = ch.register(next)
          next.channel = ch
          next.state = 'creating'
          ch.send(chanMsgCell(next.circId, { cmd: 'CREATE2', handshakeType: msg.handshakeType, handshakeData: msg.handshakeData }))
        } catch (e) {
          this.world.trace('tor-relay-extend-failed', { circId: this.circId, why: (e as Error).message })
          this.teardown(DestroyReason.CONNECTFAILED, true, true)
        }
      },
      (e: Error) => {
        if (this.closedFlag || this.next !== next) return
        this.world.trace('tor-relay-extend-failed', { circId: this.circId, why: e.message })
        this.teardown(DestroyReason.CONNECTFAILED, true, true)
      },
    )
  }

  /** A cell from the next hop (through the outbound channel's dispatch). */
  onNextCell(cell: ChannelCell): void {
    if (this.closedFlag) return
    const next = this.next
    if (!next) return
    try {
      switch (cell.command) {
        case ChanCmd.CREATED2: {
          const msg = decodeChanMsg(cell.command, cell.body)
          if (msg.cmd !== 'CREATED2' || next.state !== 'creating') throw new RelayProtocolError('unexpected CREATED2 from the next hop')
          next.state = 'open'
          this.sendRelay({ cmd: 'EXTENDED2', handshakeData: msg.handshakeData }, 0)
          return
        }
        case ChanCmd.RELAY: {
          if (next.state !== 'open') throw new RelayProtocolError('RELAY from the next hop before CREATED2')
          const body = cell.body.slice()
          this.layer.encryptBackward(body)
          this.ctx.counters.cellsBackward++
          this.prev.send({ circId: this.circId, command: ChanCmd.RELAY, body })
          return
        }
        case ChanCmd.DESTROY: {
          const msg = decodeChanMsg(cell.command, cell.body)
          const reason = msg.cmd === 'DESTROY' ? msg.reason : DestroyReason.NONE
          this.world.trace('tor-relay-circuit-destroyed', { circId: this.circId, by: 'next', reason: destroyReasonName(reason) })
          return this.onNextGone(reason)
        }
        default:
          // RELAY_EARLY travels outward only; CREATED/CREATED_FAST were never asked for.
          throw new RelayProtocolError(`cell command ${cell.command} from the next hop`)
      }
    } catch (e) {
      if (e instanceof RelayProtocolError || e instanceof WireError) this.protocolViolation(e.message)
      else {
        this.world.trace('tor-relay-bug', { stack: (e as Error).stack ?? String(e) })
        this.teardown(DestroyReason.INTERNAL, true, true)
      }
    }
  }

  /** The next hop destroyed the circuit or its channel closed: the client learns by DESTROY. */
  onNextGone(reason: number): void {
    if (this.closedFlag) return
    const next = this.next
    if (next?.channel) next.channel.unregister(next.circId)
    this.next = undefined
    this.teardown(reason, true, false)
  }

  private dropNext(reason: number): void {
    const next = this.next
    this.next = undefined
    if (!next?.channel) return
    next.channel.unregister(next.circId)
    if (!this.ctx.crashed && !next.channel.closed) {
      try {
        next.channel.send(chanMsgCell(next.circId, { cmd: 'DESTROY', reason }))
      } catch {
        /* the channel died meanwhile */
      }
    }
  }

  // ---- closing ----------------------------------------------------------------------------

  /** The inbound channel closed: tell the next hop. */
  onPrevClosed(): void {
    this.teardown(DestroyReason.CHANNEL_CLOSED, false, true)
  }

  /** Destroys the circuit from this hop (DESTROY both ways). */
  destroy(reason: number = DestroyReason.FINISHED): void {
    this.teardown(reason, true, true)
  }

  private teardown(reason: number, toPrev: boolean, toNext: boolean): void {
    if (this.closedFlag) return
    if (toPrev && !this.ctx.crashed && !this.prev.closed) this.prev.send(chanMsgCell(this.circId, { cmd: 'DESTROY', reason }))
    this.closedFlag = true
    if (toNext) this.dropNext(reason)
    else if (this.next?.channel) this.next.channel.unregister(this.next.circId)
    this.next = undefined
    for (const s of this.streams.values()) s.abort()
    this.ctx.counters.streamsOpen -= this.streams.size
    this.streams.clear()
    this.windowWaiters.clear()
    this.ctx.counters.circuitsOpen--
    this.world.trace('tor-relay-circuit-closed', { circId: this.circId, reason: destroyReasonName(reason) })
    this.onClosed(this)
  }
}

// A client circuit (tor-spec §5): CREATE2 with ntor to the first hop, EXTEND2 (inside RELAY_EARLY,
// at most 8) for each further hop, tor1 relay crypto both ways, fixed-window flow control with
// authenticated SENDMEs, and streams routed by stream id. Any cell we cannot recognise or decode,
// any flow-control violation, and any inbound RELAY_EARLY tears the whole circuit down: the
// keystreams cannot be rewound, so there is nothing to recover.

import type { Timer, World } from '../../net/world.js'
import { WireError } from '../../wire/bytes.js'
import { ChanCmd, type ChannelCell } from '../../wire/tor/cell.js'
import { DestroyReason, chanMsgCell, decodeChanMsg, destroyReasonName } from '../../wire/tor/chan-msg.js'
import { decodeRelayMsgCell, encodeRelayMsgCell, type LinkSpecifier, type RelayMsg } from '../../wire/tor/relay-msg.js'
import { CELL_BODY_LEN } from '../../wire/tor/cell.js'
import { NTOR_HTYPE, ntorClientCreate, ntorClientFinish, NtorError } from '../../crypto/tor/ntor.js'
import { splitTor1Keys } from '../../crypto/tor/kdf-rfc5869.js'
import { CREATE_FAST_KEY_LEN, createFastClientFinish } from '../../crypto/tor/create-fast.js'
import { Tor1ClientCrypto } from '../../crypto/tor/relay-crypto.js'
import type { Channel, CircuitEndpoint } from '../channel/channel.js'
import { ChannelError, CircuitError } from '../errors.js'
import { CircuitWindows, FlowControlError } from './flow-control.js'
import type { RelayTarget } from './hop.js'

/** MAX_RELAY_EARLY_CELLS_PER_CIRCUIT (or.h). */
export const MAX_RELAY_EARLY = 8
/** CircuitBuildTimeout's initial value (man tor). */
export const DEFAULT_BUILD_TIMEOUT_MS = 60_000

/** What a stream registers with its circuit to receive its own relay messages. */
export interface StreamEndpoint {
  onMessage(msg: RelayMsg): void
  onCircuitClosed(error: CircuitError): void
}

function ipv4(host: string): Uint8Array {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host)
  if (!m) throw new CircuitError('handshake', `relay address ${host} is not IPv4`)
  return Uint8Array.from(m.slice(1, 5).map(Number))
}

export class Circuit implements CircuitEndpoint {
  readonly circId: number
  readonly hops: RelayTarget[] = []
  private readonly crypto = new Tor1ClientCrypto()
  private relayEarlyLeft = MAX_RELAY_EARLY
  private readonly windows = new CircuitWindows()
  private readonly streams = new Map<number, StreamEndpoint>()
  private pending: { resolve: (hdata: Uint8Array) => void; reject: (e: CircuitError) => void; expect: 'CREATED2' | 'EXTENDED2' | 'CREATED_FAST' } | undefined
  private closedWith: CircuitError | undefined
  private readonly closeListeners: Array<(e: CircuitError) => void> = []
  private readonly packageWaiters: Array<() => void> = []
  /** Circuit-level SENDME v1 we sent, for tests and stats. */
  sendmesSent = 0
  sendmesReceived = 0
  createdAt: number

  private constructor(
    private readonly world: World,
    readonly channel: Channel,
  ) {
    this.circId = channel.register(this)
    this.createdAt = world.now()
  }

  /**
   * Builds a circuit through `path` (first hop = the channel's relay), within `timeoutMs` of the
   * World's clock. Rejects with a CircuitError; the half-built circuit is destroyed.
   */
  static async build(world: World, channel: Channel, path: RelayTarget[], opts: { timeoutMs?: number } = {}): Promise<Circuit> {
    if (path.length === 0) throw new CircuitError('handshake', 'empty path')
    const circ = new Circuit(world, channel)
    const timer: Timer = world.setTimer(opts.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS, () =>
      circ.destroy(DestroyReason.TIMEOUT, new CircuitError('timeout', `not built within ${opts.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS} ms`)),
    )
    try {
      await circ.create(path[0])
      for (const hop of path.slice(1)) await circ.extend(hop)
      world.trace('tor-circuit-built', { circId: circ.circId, path: path.map((h) => h.nickname ?? h.port), ms: world.now() - circ.createdAt })
      return circ
    } catch (e) {
      const err = e instanceof CircuitError ? e : new CircuitError('handshake', (e as Error).message)
      circ.destroy(DestroyReason.PROTOCOL, err)
      const out = circ.closedWith ?? err
      out.failedHop = circ.hops.length
      throw out
    } finally {
      timer.cancel()
    }
  }

  get closed(): boolean {
    return this.closedWith !== undefined
  }

  get closeError(): CircuitError | undefined {
    return this.closedWith
  }

  get length(): number {
    return this.hops.length
  }

  /**
   * A one-hop circuit made with CREATE_FAST (tor-spec §5.1.5): for fetching a bridge's own
   * descriptor before we know its onion key. Its only authentication is the channel's CERTS check.
   */
  static async buildFast(world: World, channel: Channel, hop: Omit<RelayTarget, 'ntorOnionKey'>, opts: { timeoutMs?: number } = {}): Promise<Circuit> {
    const circ = new Circuit(world, channel)
    const timer = world.setTimer(opts.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS, () => circ.destroy(DestroyReason.TIMEOUT, new CircuitError('timeout', 'CREATE_FAST not answered')))
    try {
      const X = world.random(CREATE_FAST_KEY_LEN)
      const reply = circ.await('CREATED_FAST')
      channel.send(chanMsgCell(circ.circId, { cmd: 'CREATE_FAST', handshakeData: X }))
      let keys: Uint8Array
      try {
        keys = createFastClientFinish(X, await reply)
      } catch (e) {
        throw e instanceof CircuitError ? e : new CircuitError('handshake', `CREATE_FAST: ${(e as Error).message}`)
      }
      circ.crypto.addHop(splitTor1Keys(keys))
      circ.hops.push({ ...hop, ntorOnionKey: new Uint8Array(32) })
      return circ
    } catch (e) {
      const err = e instanceof CircuitError ? e : new CircuitError('handshake', (e as Error).message)
      circ.destroy(DestroyReason.PROTOCOL, err)
      throw circ.closedWith ?? err
    } finally {
      timer.cancel()
    }
  }

  private await(expect: 'CREATED2' | 'EXTENDED2' | 'CREATED_FAST'): Promise<Uint8Array> {
    if (this.closedWith) return Promise.reject(this.closedWith)
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, expect }
    })
  }

  private finishHop(state: ReturnType<typeof ntorClientCreate>['state'], hop: RelayTarget, hdata: Uint8Array): void {
    let keys: Uint8Array
    try {
      keys = ntorClientFinish(state, hdata)
    } catch (e) {
      throw new CircuitError('handshake', `ntor with ${hop.nickname ?? hop.host + ':' + hop.port}: ${e instanceof NtorError ? e.code : (e as Error).message}`)
    }
    this.crypto.addHop(splitTor1Keys(keys))
    this.hops.push(hop)
  }

  private async create(hop: RelayTarget): Promise<void> {
    const { state, onionSkin } = ntorClientCreate({ nodeId: hop.rsaId, ntorOnionKey: hop.ntorOnionKey }, this.world.random(32))
    const reply = this.await('CREATED2')
    this.channel.send(chanMsgCell(this.circId, { cmd: 'CREATE2', handshakeType: NTOR_HTYPE, handshakeData: onionSkin }))
    this.finishHop(state, hop, await reply)
  }

  /** Extends by one hop: EXTEND2 in RELAY_EARLY with link specifiers 00 (IPv4), 02 (RSA id), 03 (Ed25519 id). */
  async extend(hop: RelayTarget): Promise<void> {
    if (this.relayEarlyLeft <= 0) throw new CircuitError('handshake', 'no RELAY_EARLY cells left to extend with')
    const { state, onionSkin } = ntorClientCreate({ nodeId: hop.rsaId, ntorOnionKey: hop.ntorOnionKey }, this.world.random(32))
    const linkSpecifiers: LinkSpecifier[] = [
      { lstype: 0, address: ipv4(hop.host), port: hop.port },
      { lstype: 2, rsaId: hop.rsaId },
    ]
    if (hop.ed25519Id) linkSpecifiers.push({ lstype: 3, ed25519Id: hop.ed25519Id })
    const reply = this.await('EXTENDED2')
    this.sendRelay({ cmd: 'EXTEND2', linkSpecifiers, handshakeType: NTOR_HTYPE, handshakeData: onionSkin }, 0, { early: true })
    this.finishHop(state, hop, await reply)
  }

  /**
   * Seals and sends one relay message to the last hop (or `hop`). Returns the cell's running digest.
   * RELAY_EARLY is used for EXTEND2 (required) and counted against the limit of 8.
   */
  sendRelay(msg: RelayMsg, streamId: number, opts: { early?: boolean; hop?: number } = {}): Uint8Array {
    if (this.closedWith) throw this.closedWith
    const body = encodeRelayMsgCell(msg, streamId, this.world.random(CELL_BODY_LEN))
    const digest = this.crypto.encryptOutbound(body, opts.hop ?? this.hops.length - 1)
    let command: number = ChanCmd.RELAY
    if (opts.early) {
      if (this.relayEarlyLeft <= 0) throw new CircuitError('protocol', 'RELAY_EARLY budget spent')
      this.relayEarlyLeft--
      command = ChanCmd.RELAY_EARLY
    }
    try {
      this.channel.send({ circId: this.circId, command, body })
    } catch (e) {
      this.onChannelClosed(e instanceof ChannelError ? e : new ChannelError('closed', String(e)))
      throw this.closedWith!
    }
    return digest
  }

  /** True while the circuit package window lets one more DATA cell go. */
  canSendData(): boolean {
    return !this.closedWith && this.windows.canPackage()
  }

  /** Resolves once the circuit package window is open (or the circuit is closed). */
  whenCanSendData(): Promise<void> {
    if (this.canSendData() || this.closedWith) return Promise.resolve()
    return new Promise((r) => this.packageWaiters.push(r))
  }

  /** Sends one DATA cell; the caller has checked both windows. */
  sendData(streamId: number, data: Uint8Array): void {
    if (!this.windows.canPackage()) throw new CircuitError('protocol', 'circuit package window is closed')
    const digest = this.sendRelay({ cmd: 'DATA', data }, streamId)
    this.windows.onDataSent(digest)
  }

  get packageWindow(): number {
    return this.windows.packageWindow
  }

  get deliverWindow(): number {
    return this.windows.deliverWindow
  }

  /** Picks a free random stream id (1..65535) and registers `endpoint` for its messages. */
  addStream(endpoint: StreamEndpoint): number {
    if (this.closedWith) throw this.closedWith
    for (let i = 0; i < 64; i++) {
      const b = this.world.random(2)
      const id = (b[0] << 8) | b[1]
      if (id !== 0 && !this.streams.has(id)) {
        this.streams.set(id, endpoint)
        return id
      }
    }
    throw new CircuitError('protocol', 'no free stream id')
  }

  removeStream(streamId: number): void {
    this.streams.delete(streamId)
  }

  get streamCount(): number {
    return this.streams.size
  }

  onCell(cell: ChannelCell): void {
    if (this.closedWith) return
    try {
      this.handleCell(cell)
    } catch (e) {
      if (e instanceof CircuitError) this.destroy(DestroyReason.PROTOCOL, e)
      else if (e instanceof WireError || e instanceof FlowControlError) this.destroy(DestroyReason.PROTOCOL, new CircuitError('protocol', e.message))
      else throw e
    }
  }

  private handleCell(cell: ChannelCell): void {
    switch (cell.command) {
      case ChanCmd.CREATED2: {
        const msg = decodeChanMsg(cell.command, cell.body)
        if (msg.cmd !== 'CREATED2' || this.pending?.expect !== 'CREATED2') throw new CircuitError('protocol', 'unexpected CREATED2')
        const p = this.pending
        this.pending = undefined
        p.resolve(msg.handshakeData)
        return
      }
      case ChanCmd.CREATED_FAST: {
        const msg = decodeChanMsg(cell.command, cell.body)
        if (msg.cmd !== 'CREATED_FAST' || this.pending?.expect !== 'CREATED_FAST') throw new CircuitError('protocol', 'unexpected CREATED_FAST')
        const p = this.pending
        this.pending = undefined
        p.resolve(msg.handshakeData)
        return
      }
      case ChanCmd.DESTROY: {
        const msg = decodeChanMsg(cell.command, cell.body)
        const reason = msg.cmd === 'DESTROY' ? msg.reason : DestroyReason.NONE
        this.close(new CircuitError('destroyed', `relay sent DESTROY (${destroyReasonName(reason)})`, reason))
        return
      }
      case ChanCmd.RELAY_EARLY:
        throw new CircuitError('protocol', 'inbound RELAY_EARLY')
      case ChanCmd.RELAY: {
        // The channel hands each cell over (CircuitEndpoint): decrypted in place, no copy.
        const body = cell.body
        const hit = this.crypto.decryptInbound(body)
        if (!hit) throw new CircuitError('protocol', 'relay cell recognised by no hop')
        const { streamId, msg } = decodeRelayMsgCell(body)
        this.handleRelay(hit.hop, streamId, msg, hit.digest)
        return
      }
      default:
        throw new CircuitError('protocol', `unexpected cell command ${cell.command} on a circuit`)
    }
  }

  private handleRelay(hop: number, streamId: number, msg: RelayMsg, digest: Uint8Array): void {
    const last = this.hops.length - 1
    if (msg.cmd === 'DATA') {
      if (hop !== last) throw new CircuitError('protocol', `DATA from hop ${hop}, not the last`)
      if (streamId === 0) throw new CircuitError('protocol', 'DATA on stream 0')
      const sendmeDigest = this.windows.onDataReceived(digest)
      if (sendmeDigest) {
        this.sendRelay({ cmd: 'SENDME', version: 1, digest: sendmeDigest }, 0)
        this.sendmesSent++
      }
      // After we ended a stream, cells still in flight are counted and dropped.
      this.streams.get(streamId)?.onMessage(msg)
      return
    }
    if (streamId === 0) {
      switch (msg.cmd) {
        case 'EXTENDED2': {
          if (this.pending?.expect !== 'EXTENDED2' || hop !== last) throw new CircuitError('protocol', 'unexpected EXTENDED2')
          const p = this.pending
          this.pending = undefined
          p.resolve(msg.handshakeData)
          return
        }
        case 'TRUNCATED':
          // We never send TRUNCATE, so a TRUNCATED means a hop lost its next link: the circuit is useless.
          this.destroy(DestroyReason.NONE, new CircuitError('truncated', `hop ${hop} sent TRUNCATED (${destroyReasonName(msg.reason)})`, msg.reason))
          return
        case 'SENDME': {
          if (hop !== last) throw new CircuitError('protocol', `circuit SENDME from hop ${hop}`)
          this.windows.onSendme(msg.version, msg.version === 1 ? msg.digest : undefined)
          this.sendmesReceived++
          for (const w of this.packageWaiters.splice(0)) w()
          return
        }
        case 'DROP':
        case 'unrecognized':
          return // long-range padding and commands we do not know are ignored (tor-spec §6.1)
        default:
          throw new CircuitError('protocol', `${msg.cmd} on stream 0`)
      }
    }
    if (hop !== last) throw new CircuitError('protocol', `stream message from hop ${hop}, not the last`)
    this.streams.get(streamId)?.onMessage(msg)
  }

  onChannelClosed(error: ChannelError): void {
    this.close(new CircuitError('channel', error.message))
  }

  /** Tears the circuit down: sends DESTROY (if the channel still stands) and fails everything on it. */
  destroy(reason: number = DestroyReason.FINISHED, error?: CircuitError): void {
    if (this.closedWith) return
    if (!this.channel.closed) {
      try {
        this.channel.send(chanMsgCell(this.circId, { cmd: 'DESTROY', reason }))
      } catch {
        /* the channel died meanwhile */
      }
    }
    this.close(error ?? new CircuitError('closed', `destroyed by us (${destroyReasonName(reason)})`, reason))
  }

  private close(error: CircuitError): void {
    if (this.closedWith) return
    this.closedWith = error
    this.channel.unregister(this.circId)
    this.world.trace('tor-circuit-closed', { circId: this.circId, why: error.message })
    const p = this.pending
    this.pending = undefined
    p?.reject(error)
    const streams = [...this.streams.values()]
    this.streams.clear()
    for (const s of streams) s.onCircuitClosed(error)
    for (const w of this.packageWaiters.splice(0)) w()
    for (const fn of this.closeListeners.splice(0)) fn(error)
  }

  onClose(fn: (e: CircuitError) => void): void {
    if (this.closedWith) fn(this.closedWith)
    else this.closeListeners.push(fn)
  }
}

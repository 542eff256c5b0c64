// A channel: one TLS link to one relay, carrying many circuits (tor-spec §2, §4). TLS is node:tls
// over a World connection with no certificate verification at the TLS layer: the relay is
// authenticated only by the CERTS chain, whose type-5 certificate binds the TLS certificate
// actually presented. After the handshake, cells are routed to circuits by circuit id; PADDING,
// VPADDING and unknown commands are dropped.

import { createHash } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import { connectTls } from '../../tls/connect.js'
import type { Conn, World } from '../../net/world.js'
import { CellReader, ChanCmd, encodeCell, type ChannelCell } from '../../wire/tor/cell.js'
import { chanMsgCell, NetinfoAddrType, type NetinfoAddress } from '../../wire/tor/chan-msg.js'
import { ChannelError } from '../errors.js'
import type { ExpectedIdentity, RelayIdentity } from './certs-check.js'
import { LINK_VERSIONS, LinkHandshake } from './handshake.js'

export interface ChannelTarget extends ExpectedIdentity {
  host: string
  port: number
}

/**
 * What a circuit gives its channel to receive cells addressed to it. Each cell is handed over: no
 * one else holds its body, so the endpoint may decrypt it in place.
 */
export interface CircuitEndpoint {
  onCell(cell: ChannelCell): void
  onChannelClosed(error: ChannelError): void
}

/** Known commands a client acts on; anything else on an open channel is dropped. */
const CIRCUIT_COMMANDS = new Set<number>([ChanCmd.CREATED2, ChanCmd.CREATED_FAST, ChanCmd.RELAY, ChanCmd.RELAY_EARLY, ChanCmd.DESTROY, ChanCmd.CREATED])

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 20_000
/** tor gives up after 64 random circuit-id collisions (tor-spec §5.1.1). */
const CIRC_ID_ATTEMPTS = 64

export interface ChannelOptions {
  handshakeTimeoutMs?: number
}

function ipv4Bytes(addr: string | undefined): NetinfoAddress {
  const m = addr ? /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addr) : null
  if (!m) return { type: NetinfoAddrType.IPV4, value: new Uint8Array(4) }
  return { type: NetinfoAddrType.IPV4, value: Uint8Array.from(m.slice(1, 5).map(Number)) }
}

export class Channel {
  private readonly circuits = new Map<number, CircuitEndpoint>()
  private closedWith: ChannelError | undefined
  private readonly closeListeners: Array<(e: ChannelError) => void> = []

  private constructor(
    private readonly world: World,
    private readonly socket: TLSSocket,
    private readonly reader: CellReader,
    readonly target: ChannelTarget,
    readonly linkVersion: number,
    /** The relay's identities, proven by its CERTS cell. */
    readonly peer: RelayIdentity,
    /** The relay's clock (NETINFO TIME, seconds) minus ours when it arrived, in ms. */
    readonly clockSkewMs: number,
  ) {}

  /** Connects, handshakes, checks CERTS, exchanges NETINFO. Rejects with a ChannelError. */
  static async open(world: World, target: ChannelTarget, opts: ChannelOptions = {}): Promise<Channel> {
    const timeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
    // One deadline for TCP, TLS and the link handshake: a port that does not speak Tor may hang.
    let conn: Conn | undefined
    let timedOut = false
    const timeoutError = () => new ChannelError('timeout', `no link handshake within ${timeoutMs} ms`)
    let expire: (e: ChannelError) => void = () => {}
    const expired = new Promise<never>((_, reject) => (expire = reject))
    expired.catch(() => {})
    const deadline = world.setTimer(timeoutMs, () => {
      timedOut = true
      expire(timeoutError())
      conn?.destroy()
    })
    try {
      try {
        conn = await Promise.race([world.net.connect(target.host, target.port), expired])
      } catch (e) {
        if (timedOut) throw timeoutError()
        throw new ChannelError('connect', `${target.host}:${target.port}: ${(e as Error).message}`)
      }
      if (timedOut) {
        conn.destroy()
        throw timeoutError()
      }
      // Our SENDMEs are single small writes that the relay's next cells wait for. With Nagle on, a
      // SENDME written while an earlier one is unacknowledged waits for the relay's ACK, and a relay
      // with nothing to send yet delays its ACK (~40 ms on Linux): in 30 MB downloads through the lab
      // network the 90th-percentile SENDME round trip fell from ~57 ms to ~31 ms without it.
      conn.setNoDelay?.(true)
      let socket: TLSSocket
      try {
        // Relays present a self-signed certificate with random names; CERTS authenticates it.
        socket = await Promise.race([connectTls(world, conn, { rejectUnauthorized: false, minVersion: 'TLSv1.2' }), expired])
      } catch (e) {
        conn.destroy()
        throw timedOut ? timeoutError() : new ChannelError('tls', (e as Error).message)
      }
      return await Channel.handshake(world, target, socket, () => timedOut, timeoutError)
    } finally {
      deadline.cancel()
    }
  }

  private static async handshake(world: World, target: ChannelTarget, socket: TLSSocket, timedOut: () => boolean, timeoutError: () => ChannelError): Promise<Channel> {
    const raw = socket.getPeerCertificate(true)?.raw
    if (!raw || raw.length === 0) {
      socket.destroy()
      throw new ChannelError('tls', 'relay presented no TLS certificate')
    }
    const tlsCertDer = new Uint8Array(raw)
    world.trace('tor-channel-tls', { host: target.host, port: target.port, certSha256: createHash('sha256').update(tlsCertDer).digest('hex') })
    const hs = new LinkHandshake(tlsCertDer, () => world.now(), target)
    const reader = new CellReader()

    return await new Promise<Channel>((resolve, reject) => {
      let done = false
      const finish = (err: ChannelError | undefined, ch?: Channel) => {
        if (done) return
        done = true
        socket.off('data', onData)
        socket.off('error', onError)
        socket.off('close', onClose)
        socket.off('end', onClose)
        if (err) {
          socket.on('error', () => {}) // late errors of a socket we gave up on must not go unhandled
          socket.destroy()
          reject(err)
        } else resolve(ch!)
      }
      const onError = (e: Error) => finish(timedOut() ? timeoutError() : new ChannelError('tls', e.message))
      const onClose = () => finish(timedOut() ? timeoutError() : new ChannelError('closed', 'relay closed the connection during the handshake'))
      const handle = (events: ReturnType<CellReader['receive']>) => {
        for (let i = 0; i < events.length; i++) {
          const ev = events[i]
          if (done) return
          if (ev.kind === 'error') return finish(new ChannelError('protocol', ev.error.message))
          const step = hs.onCell(ev.cell)
          if (step.kind === 'version') {
            handle(reader.setLinkVersion(step.linkVersion))
            return
          }
          if (step.kind === 'open') {
            const circIdLen = 4 as const
            // Clients send TIME 0 and no addresses of their own (tor-spec §4.5).
            const other = ipv4Bytes(socket.remoteAddress ?? target.host)
            socket.write(encodeCell(chanMsgCell(0, { cmd: 'NETINFO', timestamp: 0, otherAddress: other, myAddresses: [] }), circIdLen))
            const skew = step.peerTime === 0 ? 0 : step.peerTime * 1000 - world.now()
            const ch = new Channel(world, socket, reader, target, hs.linkVersion, step.identity, skew)
            finish(undefined, ch)
            ch.start(events.slice(i + 1))
            return
          }
        }
      }
      const onData = (chunk: Buffer) => {
        try {
          handle(reader.receive(chunk))
        } catch (e) {
          if (e instanceof ChannelError) finish(e)
          else {
            world.trace("tor-channel-bug", { stack: (e as Error).stack ?? String(e) })
            finish(new ChannelError("protocol", (e as Error).message))
          }
        }
      }
      socket.on('data', onData)
      socket.on('error', onError)
      socket.on('close', onClose)
      socket.on('end', onClose)
      // The first VERSIONS cell always has a 2-byte circuit id.
      socket.write(encodeCell(chanMsgCell(0, { cmd: 'VERSIONS', versions: [...LINK_VERSIONS] }), 2))
    })
  }

  private start(early: ReturnType<CellReader['receive']>): void {
    this.socket.on('data', (chunk: Buffer) => {
      // The reader copies what it keeps, so the socket's Buffer is passed as it is.
      for (const ev of this.reader.receive(chunk)) {
        if (ev.kind === 'error') return this.close(new ChannelError('protocol', ev.error.message))
        this.dispatch(ev.cell)
        if (this.closedWith) return
      }
    })
    this.socket.on('error', (e) => this.close(new ChannelError('tls', e.message)))
    this.socket.on('close', () => this.close(new ChannelError('closed', 'relay closed the connection')))
    // A relay that ends its side is done with the channel; over a sim Conn a TLS socket may report
    // 'end' and never 'close', so EOF alone closes the channel.
    this.socket.on('end', () => this.close(new ChannelError('closed', 'relay closed the connection')))
    // Cells that arrived in the same read as NETINFO.
    for (const ev of early) {
      if (ev.kind === 'error') return this.close(new ChannelError('protocol', ev.error.message))
      this.dispatch(ev.cell)
    }
  }

  private dispatch(cell: ChannelCell): void {
    if (!CIRCUIT_COMMANDS.has(cell.command) || cell.circId === 0) return // padding, late handshake cells, unknown commands
    this.circuits.get(cell.circId)?.onCell(cell) // a cell for a circuit we already forgot is dropped
  }

  get closed(): boolean {
    return this.closedWith !== undefined
  }

  get circuitCount(): number {
    return this.circuits.size
  }

  /** Picks a free random circuit id with the MSB set (we initiated the link, tor-spec §5.1.1). */
  register(endpoint: CircuitEndpoint): number {
    if (this.closedWith) throw this.closedWith
    for (let i = 0; i < CIRC_ID_ATTEMPTS; i++) {
      const b = this.world.random(4)
      const id = (((b[0] | 0x80) << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0
      if (!this.circuits.has(id)) {
        this.circuits.set(id, endpoint)
        return id
      }
    }
    throw new ChannelError('protocol', 'no free circuit id')
  }

  unregister(circId: number): void {
    this.circuits.delete(circId)
  }

  send(cell: ChannelCell): void {
    if (this.closedWith) throw this.closedWith
    this.socket.write(encodeCell(cell, 4))
  }

  onClose(fn: (e: ChannelError) => void): void {
    if (this.closedWith) fn(this.closedWith)
    else this.closeListeners.push(fn)
  }

  close(error: ChannelError = new ChannelError('closed', 'closed by us')): void {
    if (this.closedWith) return
    this.closedWith = error
    this.world.trace('tor-channel-closed', { host: this.target.host, port: this.target.port, why: error.message })
    this.socket.on('error', () => {})
    this.socket.destroy()
    const eps = [...this.circuits.values()]
    this.circuits.clear()
    for (const ep of eps) ep.onChannelClosed(error)
    for (const fn of this.closeListeners.splice(0)) fn(error)
  }
}

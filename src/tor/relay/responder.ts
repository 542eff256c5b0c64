// A relay's inbound channel: TLS accepted with the relay's link certificate over a World Conn,
// the responder handshake (link-responder.ts), then cells in and out. What the cells mean is the
// owner's business (the onion router routes them to circuits); the channel only frames them and
// closes cleanly — a trace and a destroyed socket, never an exception out of an event handler —
// on malformed input, a handshake deadline, or the peer going away.

import type { TLSSocket } from 'node:tls'
import type { Conn, Timer, World } from '../../net/world.js'
import { acceptTls } from '../../tls/accept.js'
import { CellReader, ChanCmd, circIdLenFor, encodeCell, type CellEvent, type ChannelCell } from '../../wire/tor/cell.js'
import type { CertEntry } from '../../wire/tor/chan-msg.js'
import { ChannelError } from '../errors.js'
import { AUTH_CHALLENGE_LEN, LinkResponder } from './link-responder.js'

export const DEFAULT_RESPONDER_HANDSHAKE_MS = 30_000

export interface ResponderOptions {
  /** The relay's TLS key and certificate (PEM), the certificate its CERTS type 5 binds. */
  tlsKey: string
  tlsCert: string
  /** The CERTS entries to send, made at the time of each handshake. */
  certs: (nowMs: number) => CertEntry[]
  /** Our own address, for NETINFO. */
  address: string
  handshakeTimeoutMs?: number
}

/** What the owner of an open channel receives. */
export interface ChannelHandler {
  onCell(cell: ChannelCell): void
  onClosed(error: ChannelError): void
}

export class ResponderChannel {
  private closedWith: ChannelError | undefined
  private handler: ChannelHandler | undefined
  private readonly circIdLen: 2 | 4
  /** Cells written and read after the handshake (for stats). */
  cellsIn = 0
  cellsOut = 0

  private constructor(
    private readonly world: World,
    private readonly socket: TLSSocket,
    /** The connection under TLS: a server-side TLSSocket over a Duplex does not close it by itself. */
    private readonly conn: Conn,
    private readonly reader: CellReader,
    readonly linkVersion: number,
    readonly peerAddress: string | undefined,
    readonly peerPort: number | undefined,
  ) {
    this.circIdLen = circIdLenFor(linkVersion)
  }

  /**
   * Accepts TLS and runs the handshake over `conn`; then `attach` is asked for the handler of the
   * open channel (before any later cell is delivered). Rejects with a ChannelError; the connection
   * is closed by then.
   */
  static async accept(world: World, conn: Conn, opts: ResponderOptions, attach: (ch: ResponderChannel) => ChannelHandler): Promise<ResponderChannel> {
    conn.on('error', () => {}) // errors surface on the TLS socket; an abandoned conn must not throw
    const timeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_RESPONDER_HANDSHAKE_MS
    let socket: TLSSocket
    try {
      socket = await acceptTls(world, conn, { key: opts.tlsKey, cert: opts.tlsCert, minVersion: 'TLSv1.2', handshakeTimeoutMs: timeoutMs })
    } catch (e) {
      conn.destroy()
      throw new ChannelError('tls', (e as Error).message)
    }
    const peerAddress = conn.remoteAddress
    const peerPort = conn.remotePort
    const hs = new LinkResponder(() => ({
      certs: opts.certs(world.now()),
      challenge: world.random(AUTH_CHALLENGE_LEN),
      timeSeconds: Math.floor(world.now() / 1000),
      peerAddress,
      myAddress: opts.address,
    }))
    const reader = new CellReader()
    return await new Promise<ResponderChannel>((resolve, reject) => {
      let done = false
      const timer: Timer = world.setTimer(timeoutMs, () => finish(new ChannelError('timeout', `no NETINFO within ${timeoutMs} ms`)))
      const finish = (err: ChannelError | undefined, ch?: ResponderChannel) => {
        if (done) return
        done = true
        timer.cancel()
        socket.off('data', onData)
        socket.off('error', onError)
        socket.off('close', onClose)
        socket.off('end', onClose)
        if (err) {
          world.trace('tor-relay-link-refused', { peer: peerAddress ?? null, why: err.message })
          socket.on('error', () => {})
          socket.destroy()
          conn.destroy()
          reject(err)
        } else resolve(ch!)
      }
      const handle = (events: CellEvent[]): void => {
        for (let i = 0; i < events.length && !done; i++) {
          const ev = events[i]
          if (ev.kind === 'error') return finish(new ChannelError('protocol', ev.error.message))
          const step = hs.onCell(ev.cell)
          if (step.kind === 'reply') {
            socket.write(encodeCell(step.versions, 2))
            const len = circIdLenFor(step.linkVersion)
            for (const c of step.flight) socket.write(encodeCell(c, len))
            return handle([...events.slice(i + 1), ...reader.setLinkVersion(step.linkVersion)])
          }
          if (step.kind === 'open') {
            const ch = new ResponderChannel(world, socket, conn, reader, hs.linkVersion, peerAddress, peerPort)
            world.trace('tor-relay-link-open', { peer: peerAddress ?? null, linkVersion: hs.linkVersion })
            finish(undefined, ch)
            ch.start(attach(ch), events.slice(i + 1))
            return
          }
        }
      }
      const onData = (chunk: Buffer) => {
        try {
          handle(reader.receive(new Uint8Array(chunk)))
        } catch (e) {
          if (e instanceof ChannelError) finish(e)
          else {
            world.trace('tor-relay-bug', { stack: (e as Error).stack ?? String(e) })
            finish(new ChannelError('protocol', (e as Error).message))
          }
        }
      }
      const onError = (e: Error) => finish(new ChannelError('tls', e.message))
      const onClose = () => finish(new ChannelError('closed', 'initiator closed the connection during the handshake'))
      socket.on('data', onData)
      socket.on('error', onError)
      socket.on('close', onClose)
      socket.on('end', onClose)
    })
  }

  private start(handler: ChannelHandler, early: CellEvent[]): void {
    this.handler = handler
    this.socket.on('data', (chunk: Buffer) => this.take(this.reader.receive(new Uint8Array(chunk))))
    this.socket.on('error', (e) => this.close(new ChannelError('tls', e.message)))
    // No half-close on a Tor link: EOF from the peer ends the channel.
    this.socket.on('end', () => this.close(new ChannelError('closed', 'peer closed the connection')))
    this.socket.on('close', () => this.close(new ChannelError('closed', 'peer closed the connection')))
    this.take(early)
  }

  private take(events: CellEvent[]): void {
    for (const ev of events) {
      if (this.closedWith) return
      if (ev.kind === 'error') return this.close(new ChannelError('protocol', ev.error.message))
      const cell = ev.cell
      // Link-level cells after the handshake: padding is dropped; a second VERSIONS/NETINFO is ignored as tor does.
      if (cell.command === ChanCmd.PADDING || cell.command === ChanCmd.VPADDING || cell.command === ChanCmd.PADDING_NEGOTIATE) continue
      this.cellsIn++
      try {
        this.handler!.onCell(cell)
      } catch (e) {
        // A bug in a handler must not take the process down; it costs this channel.
        this.world.trace('tor-relay-bug', { stack: (e as Error).stack ?? String(e) })
        this.close(new ChannelError('protocol', `internal error: ${(e as Error).message}`))
      }
    }
  }

  get closed(): boolean {
    return this.closedWith !== undefined
  }

  /** Writes one cell; silently dropped once the channel is closed (the circuits learn via onClosed). */
  send(cell: ChannelCell): void {
    if (this.closedWith) return
    this.cellsOut++
    this.socket.write(encodeCell(cell, this.circIdLen))
  }

  /** Bytes queued in the TLS socket (for backpressure decisions). */
  get queuedBytes(): number {
    return this.socket.writableLength
  }

  /**
   * Closes the link. `reset` closes the TCP connection with RST, as a crashing process's kernel
   * does for a connection with data still unread; otherwise with FIN.
   */
  close(error: ChannelError = new ChannelError('closed', 'closed by the relay'), opts: { reset?: boolean } = {}): void {
    if (this.closedWith) return
    this.closedWith = error
    this.world.trace('tor-relay-link-closed', { peer: this.peerAddress ?? null, why: error.message })
    this.socket.on('error', () => {})
    const conn = this.conn as Conn & { resetAndDestroy?: () => void }
    if (opts.reset && conn.resetAndDestroy) conn.resetAndDestroy()
    this.socket.destroy()
    conn.destroy()
    this.handler?.onClosed(error)
  }
}

// An onion router for the simulated network: the ORPort listener, one ResponderChannel per
// accepted link, circuits created on them (CREATE2/ntor, CREATE_FAST), outbound channels for
// EXTEND2, exit streams and BEGIN_DIR when configured. Everything random or timed comes from the
// World it is started with, so a sim run with the same seed reproduces. stop() is a crash: the
// listener goes and every connection is dropped without a DESTROY, as when the process dies.

import type { Conn, Listener, World } from '../../net/world.js'
import { NtorError } from '../../crypto/tor/ntor.js'
import { WireError, toHex } from '../../wire/bytes.js'
import { ChanCmd, type ChannelCell } from '../../wire/tor/cell.js'
import { DestroyReason, chanMsgCell, decodeChanMsg } from '../../wire/tor/chan-msg.js'
import { ChannelError } from '../errors.js'
import { relayCerts } from './certs-cell.js'
import { ChannelPool } from './channel-pool.js'
import { answerCreate } from './create-answer.js'
import type { DirRequestHandler } from './dir-stream.js'
import type { ExitOptions } from './exit-stream.js'
import { ntorSecretOf, type RelayKeys } from './keys.js'
import { RelayCircuit, newRelayCounters, type RelayContext, type RelayCounters } from './relay-circuit.js'
import { ResponderChannel } from './responder.js'

export interface OnionRouterOptions {
  keys: RelayKeys
  orPort: number
  /** This relay's IPv4 address (its sim host's), for NETINFO. */
  address: string
  /** Present: the relay is an exit. */
  exit?: ExitOptions
  /** Present: the relay answers BEGIN_DIR as a directory cache. */
  dirRequest?: DirRequestHandler
  handshakeTimeoutMs?: number
}

export interface OnionRouterStats extends RelayCounters {
  channelsIn: number
  channelsAccepted: number
  channelsOut: number
  linkHandshakesFailed: number
  createsRefused: number
}

export class OnionRouter {
  private readonly channels = new Map<ResponderChannel, Map<number, RelayCircuit>>()
  private readonly ctx: RelayContext
  private listener: Listener | undefined
  private channelsAccepted = 0
  private linkHandshakesFailed = 0
  private createsRefused = 0
  private stopped = false

  private constructor(
    private readonly world: World,
    readonly opts: OnionRouterOptions,
  ) {
    this.ctx = {
      world,
      pool: new ChannelPool(world),
      ...(opts.exit ? { exit: opts.exit } : {}),
      ...(opts.dirRequest ? { dirRequest: opts.dirRequest } : {}),
      counters: newRelayCounters(),
      crashed: false,
    }
  }

  /** Starts listening on `orPort` of the World's host. */
  static async start(world: World, opts: OnionRouterOptions): Promise<OnionRouter> {
    const r = new OnionRouter(world, opts)
    r.listener = await world.net.listen(opts.orPort, (conn) => r.accept(conn))
    world.trace('tor-relay-start', { nickname: opts.keys.nickname, address: opts.address, orPort: opts.orPort, fingerprint: toHex(opts.keys.rsaId), exit: !!opts.exit, dir: !!opts.dirRequest })
    return r
  }

  get nickname(): string {
    return this.opts.keys.nickname
  }

  get stats(): OnionRouterStats {
    return {
      ...this.ctx.counters,
      channelsIn: this.channels.size,
      channelsAccepted: this.channelsAccepted,
      channelsOut: this.ctx.pool.size,
      linkHandshakesFailed: this.linkHandshakesFailed,
      createsRefused: this.createsRefused,
    }
  }

  private accept(conn: Conn): void {
    if (this.stopped) {
      conn.destroy()
      return
    }
    const { keys } = this.opts
    ResponderChannel.accept(
      this.world,
      conn,
      {
        tlsKey: keys.tls.keyPem,
        tlsCert: keys.tls.certPem,
        certs: (now) => relayCerts(keys, now),
        address: this.opts.address,
        ...(this.opts.handshakeTimeoutMs ? { handshakeTimeoutMs: this.opts.handshakeTimeoutMs } : {}),
      },
      (ch) => {
        const circuits = new Map<number, RelayCircuit>()
        this.channels.set(ch, circuits)
        this.channelsAccepted++
        if (this.stopped) queueMicrotask(() => ch.close())
        return {
          onCell: (cell) => this.onCell(ch, circuits, cell),
          onClosed: () => {
            this.channels.delete(ch)
            const all = [...circuits.values()]
            circuits.clear()
            for (const c of all) c.onPrevClosed()
          },
        }
      },
    ).catch(() => {
      this.linkHandshakesFailed++
    })
  }

  private onCell(ch: ResponderChannel, circuits: Map<number, RelayCircuit>, cell: ChannelCell): void {
    const circ = circuits.get(cell.circId)
    if (circ) return circ.onPrevCell(cell)
    if (cell.circId === 0) return // link-level leftovers (a late NETINFO …) mean nothing here
    if (cell.command !== ChanCmd.CREATE2 && cell.command !== ChanCmd.CREATE_FAST) {
      // CREATE (TAP) is long gone; RELAY / DESTROY for a circuit we do not know are dropped, as tor does.
      if (cell.command === ChanCmd.CREATE) this.refuse(ch, cell.circId, 'CREATE (TAP) is not supported')
      return
    }
    let answer: ReturnType<typeof answerCreate>
    try {
      const msg = decodeChanMsg(cell.command, cell.body)
      if (msg.cmd !== 'CREATE2' && msg.cmd !== 'CREATE_FAST') return
      answer = answerCreate(msg, ntorSecretOf(this.opts.keys), (n) => this.world.random(n))
    } catch (e) {
      if (e instanceof WireError || e instanceof NtorError) return this.refuse(ch, cell.circId, e.message)
      throw e
    }
    const id = cell.circId
    const c = new RelayCircuit(this.ctx, ch, id, answer.keys, () => {
      if (circuits.get(id) === c) circuits.delete(id)
    })
    circuits.set(id, c)
    ch.send(chanMsgCell(id, answer.reply))
    this.world.trace('tor-relay-circuit-created', { circId: id, fast: cell.command === ChanCmd.CREATE_FAST })
  }

  private refuse(ch: ResponderChannel, circId: number, why: string): void {
    this.createsRefused++
    this.world.trace('tor-relay-create-refused', { circId, why })
    ch.send(chanMsgCell(circId, { cmd: 'DESTROY', reason: DestroyReason.PROTOCOL }))
  }

  /** Crash: stop listening and drop every connection, with nothing sent on any of them. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.ctx.crashed = true
    this.world.trace('tor-relay-stop', { nickname: this.nickname })
    await this.listener?.close()
    for (const ch of [...this.channels.keys()]) ch.close(new ChannelError('closed', 'relay stopped'), { reset: true })
    this.ctx.pool.closeAll()
  }
}

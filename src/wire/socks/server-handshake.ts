// The server side of a SOCKS4/4a/5 handshake as a sans-IO engine: bytes in, events out. The driver
// owns the socket: it writes every `send`, acts on the `request`, then calls reply(); on `error`
// it writes `reply` (possibly empty) and closes.
//
// Clients may pipeline (Tor's "optimistic data", curl sending greeting+auth at once): everything
// in one receive() is processed in order, and bytes after the request come back as `leftover`.
// Buffering is bounded: in every state the engine waits only while the pending bytes are a proper
// prefix of one legal message, so a trickling peer never grows it past the largest such message.

import { isTruncated, WireError } from '../bytes.js'
import { addressTypeOf, ATYP, atypOf, isIpv4Text, isIpv6Text, type AddressType } from './address.js'
import { decodeClientGreeting, encodeMethodSelection, Method, SOCKS5_VERSION } from './greeting.js'
import { Command, decodeSocks5Request } from './request.js'
import { encodeSocks5Reply, Socks5ReplyCode, type Socks5ReplyName } from './reply.js'
import {
  decodeSocks4Request,
  encodeSocks4Reply,
  Socks4Command,
  Socks4ReplyCode,
  socks4RequestIncomplete,
  SOCKS4_VERSION,
} from './socks4.js'
import { decodeUserPassRequest, encodeUserPassResponse, USERPASS_VERSION, UserPassStatus } from './userpass.js'

export type SocksCommand = 'connect' | 'bind' | 'udp-associate' | 'resolve' | 'resolve-ptr'
export type SocksAuthMethod = 'no-auth' | 'username-password'

export interface SocksServerOptions {
  /** Methods the server allows; with both, username/password wins when the client offers it. */
  methods: SocksAuthMethod[]
  /** How to judge RFC 1929 credentials; 'accept-any' is Tor's use (they are an isolation key). */
  credentials?: 'accept-any' | ((username: string, password: string) => boolean)
  /** Accept SOCKS4/4a (default true). Refused anyway when a credential check would be bypassed. */
  socks4?: boolean
}

export interface SocksRequestEvent {
  kind: 'request'
  version: 4 | 5
  command: SocksCommand
  /** Domain name, dotted IPv4 or RFC 5952 IPv6 text, exactly as the client addressed it. */
  host: string
  addressType: AddressType
  port: number
  /** RFC 1929 UNAME or SOCKS4 USERID, byte-per-character. */
  username?: string
  password?: string
  /** Bytes the client sent after its request (its first data). Never dropped. */
  leftover: Uint8Array
}

export type SocksServerEvent =
  | { kind: 'send'; bytes: Uint8Array }
  | SocksRequestEvent
  | { kind: 'error'; error: WireError; reply: Uint8Array }

type State = 'start' | 'greeting' | 'auth' | 'request' | 'socks4' | 'done' | 'failed'

const SOCKS5_COMMANDS: Record<number, SocksCommand> = {
  [Command.connect]: 'connect',
  [Command.bind]: 'bind',
  [Command.udpAssociate]: 'udp-associate',
  [Command.resolve]: 'resolve',
  [Command.resolvePtr]: 'resolve-ptr',
}
const SOCKS4_COMMANDS: Record<number, SocksCommand> = {
  [Socks4Command.connect]: 'connect',
  [Socks4Command.bind]: 'bind',
  [Socks4Command.resolve]: 'resolve',
  [Socks4Command.resolvePtr]: 'resolve-ptr',
}

export class SocksServerHandshake {
  private state: State = 'start'
  /** Bytes not yet consumed: store[0, length). Grown by doubling, never past one message plus a chunk. */
  private store: Uint8Array = new Uint8Array(0)
  private length = 0
  /** Fewer pending bytes than this and the decoder has already said "truncated". */
  private waitFor = 0
  private version: 4 | 5 | undefined
  private username: string | undefined
  private password: string | undefined

  constructor(private readonly options: SocksServerOptions) {
    if (options.methods.length === 0) throw new Error('SocksServerHandshake: no methods allowed')
    if (options.methods.includes('username-password') && options.credentials === undefined) {
      throw new Error("SocksServerHandshake: username-password needs a credentials check or 'accept-any'")
    }
  }

  /** Bytes held while waiting for the rest of a message. */
  get buffered(): number {
    return this.length
  }

  private get pending(): Uint8Array {
    return this.store.subarray(0, this.length)
  }

  get finished(): boolean {
    return this.state === 'done' || this.state === 'failed'
  }

  /** Feed bytes exactly as they arrived. After the request the driver owns the stream. */
  receive(chunk: Uint8Array): SocksServerEvent[] {
    if (this.state === 'done') throw new Error('SocksServerHandshake: bytes after the request belong to the stream')
    if (this.state === 'failed') return []
    this.append(chunk)
    const events: SocksServerEvent[] = []
    while (!this.finished && this.length > 0 && this.length >= this.waitFor && !this.socks4Incomplete()) {
      try {
        this.step(events)
      } catch (e) {
        if (isTruncated(e)) {
          this.waitFor = this.length + e.needed
          break
        }
        if (!(e instanceof WireError)) throw e
        events.push(this.fail(e, this.failureReply()))
      }
    }
    return events
  }

  private append(chunk: Uint8Array): void {
    if (this.length + chunk.length > this.store.length) {
      const next = new Uint8Array(Math.max(this.length + chunk.length, 2 * this.store.length, 64))
      next.set(this.pending)
      this.store = next
    }
    this.store.set(chunk, this.length)
    this.length += chunk.length
  }

  private socks4Incomplete(): boolean {
    return this.state === 'socks4' && socks4RequestIncomplete(this.pending)
  }

  /**
   * The reply for the request: SOCKS5 with its REP, SOCKS4 as 90 (succeeded) or 91 (anything
   * else). `bound` is BND.ADDR/BND.PORT (for RESOLVE the answer, for RESOLVE_PTR a name); SOCKS4
   * can only carry an IPv4 address there, anything else throws WireError('bad-value').
   */
  reply(code: Socks5ReplyName, bound?: { host: string; port: number }): Uint8Array {
    if (this.state !== 'done' || this.version === undefined) throw new Error('SocksServerHandshake: no request to reply to')
    return this.version === 5 ? socks5Reply(code, bound) : socks4Reply(code === 'succeeded' ? 'granted' : 'rejectedOrFailed', bound)
  }

  private step(events: SocksServerEvent[]): void {
    switch (this.state) {
      case 'start': {
        const ver = this.pending[0]
        if (ver === SOCKS5_VERSION) {
          this.version = 5
          this.state = 'greeting'
        } else if (ver === SOCKS4_VERSION && this.socks4Allowed()) {
          this.version = 4
          this.state = 'socks4'
        } else if (ver === SOCKS4_VERSION) {
          events.push(this.fail(new WireError('unsupported', 'SOCKS4 not allowed here'), socks4Reply('rejectedOrFailed')))
        } else {
          // Not a protocol we can answer in: close without a reply.
          events.push(this.fail(new WireError('unsupported', `SOCKS version ${ver}`), new Uint8Array(0)))
        }
        return
      }
      case 'greeting': {
        const { greeting, used } = decodeClientGreeting(this.pending)
        this.consume(used)
        const method = this.chooseMethod(greeting.methods)
        const bytes = encodeMethodSelection({ ver: SOCKS5_VERSION, method })
        if (method === Method.noAcceptableMethods) {
          events.push(this.fail(new WireError('unsupported', 'SOCKS5: no acceptable methods'), bytes))
          return
        }
        events.push({ kind: 'send', bytes })
        this.state = method === Method.usernamePassword ? 'auth' : 'request'
        return
      }
      case 'auth': {
        const { request, used } = decodeUserPassRequest(this.pending)
        this.consume(used)
        const check = this.options.credentials
        const ok = check === 'accept-any' || (check !== undefined && check(request.uname, request.passwd))
        const bytes = encodeUserPassResponse({
          ver: USERPASS_VERSION,
          status: ok ? UserPassStatus.success : UserPassStatus.failure,
        })
        if (!ok) {
          events.push(this.fail(new WireError('bad-value', 'RFC 1929: credentials refused'), bytes))
          return
        }
        this.username = request.uname
        this.password = request.passwd
        events.push({ kind: 'send', bytes })
        this.state = 'request'
        return
      }
      case 'request': {
        // Answer an unknown ATYP with its own reply code before the decoder gives up on it.
        if (this.pending.length >= 4 && addressTypeOf(this.pending[3]) === undefined && this.pending[0] === SOCKS5_VERSION) {
          const e = new WireError('unsupported', `SOCKS5 request: ATYP ${this.pending[3]}`)
          events.push(this.fail(e, socks5Reply('addressTypeNotSupported')))
          return
        }
        const { request, used } = decodeSocks5Request(this.pending)
        const command = SOCKS5_COMMANDS[request.cmd]
        if (command === undefined) {
          const e = new WireError('unsupported', `SOCKS5 request: CMD 0x${request.cmd.toString(16)}`)
          events.push(this.fail(e, socks5Reply('commandNotSupported')))
          return
        }
        this.finish(events, used, {
          version: 5,
          command,
          host: request.dstAddr,
          addressType: addressTypeOf(request.atyp)!,
          port: request.dstPort,
        })
        return
      }
      case 'socks4': {
        const { request, used } = decodeSocks4Request(this.pending)
        const command = SOCKS4_COMMANDS[request.cd]
        if (command === undefined) {
          const e = new WireError('unsupported', `SOCKS4 request: CD ${request.cd}`)
          events.push(this.fail(e, socks4Reply('rejectedOrFailed')))
          return
        }
        this.username = request.userId
        this.finish(events, used, {
          version: 4,
          command,
          host: request.domain ?? request.dstIp,
          addressType: request.domain !== undefined ? 'domain' : 'ipv4',
          port: request.dstPort,
        })
        return
      }
      default:
        return
    }
  }

  private finish(
    events: SocksServerEvent[],
    used: number,
    req: Omit<SocksRequestEvent, 'kind' | 'leftover' | 'username' | 'password'>,
  ): void {
    const leftover = this.pending.slice(used)
    this.store = new Uint8Array(0)
    this.length = 0
    this.state = 'done'
    const ev: SocksRequestEvent = { kind: 'request', ...req, leftover }
    if (this.username !== undefined) ev.username = this.username
    if (this.password !== undefined) ev.password = this.password
    events.push(ev)
  }

  private consume(n: number): void {
    this.store.copyWithin(0, n, this.length)
    this.length -= n
    this.waitFor = 0
  }

  private fail(error: WireError, reply: Uint8Array): SocksServerEvent {
    this.state = 'failed'
    this.store = new Uint8Array(0)
    this.length = 0
    return { kind: 'error', error, reply }
  }

  /** What to send when a message in the current state is malformed. */
  private failureReply(): Uint8Array {
    switch (this.state) {
      case 'greeting':
        return encodeMethodSelection({ ver: SOCKS5_VERSION, method: Method.noAcceptableMethods })
      case 'auth':
        return encodeUserPassResponse({ ver: USERPASS_VERSION, status: UserPassStatus.failure })
      case 'request':
        return socks5Reply('generalFailure')
      case 'socks4':
        return socks4Reply('rejectedOrFailed')
      default:
        return new Uint8Array(0)
    }
  }

  private chooseMethod(offered: number[]): number {
    const allowed = this.options.methods
    if (allowed.includes('username-password') && offered.includes(Method.usernamePassword)) return Method.usernamePassword
    if (allowed.includes('no-auth') && offered.includes(Method.noAuthenticationRequired)) return Method.noAuthenticationRequired
    return Method.noAcceptableMethods
  }

  private socks4Allowed(): boolean {
    if (this.options.socks4 === false) return false
    // SOCKS4 carries no password: allow it only where no password would have been checked.
    return this.options.methods.includes('no-auth') || this.options.credentials === 'accept-any'
  }
}

function boundAtyp(host: string): number {
  return atypOf(isIpv4Text(host) ? 'ipv4' : isIpv6Text(host) ? 'ipv6' : 'domain')
}

/** A SOCKS5 reply with the named REP; BND defaults to 0.0.0.0:0 as most servers send. */
export function socks5Reply(code: Socks5ReplyName, bound?: { host: string; port: number }): Uint8Array {
  return encodeSocks5Reply({
    ver: SOCKS5_VERSION,
    rep: Socks5ReplyCode[code],
    rsv: 0,
    atyp: bound ? boundAtyp(bound.host) : ATYP.ipv4,
    bndAddr: bound?.host ?? '0.0.0.0',
    bndPort: bound?.port ?? 0,
  })
}

/** A SOCKS4 reply (VN 0) with the named CD; DSTPORT/DSTIP default to zero (ignored by clients). */
export function socks4Reply(code: keyof typeof Socks4ReplyCode, bound?: { host: string; port: number }): Uint8Array {
  return encodeSocks4Reply({ vn: 0, cd: Socks4ReplyCode[code], dstPort: bound?.port ?? 0, dstIp: bound?.host ?? '0.0.0.0' })
}

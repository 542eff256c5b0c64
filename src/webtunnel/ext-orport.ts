// The Extended ORPort, client side (the PT's side; tor is the server). torspec ext-orport-spec.txt
// (proposals 196 and 217): SAFE_COOKIE authentication, then USERADDR / TRANSPORT / DONE, then
// tor's OKAY or DENY; after OKAY the connection carries the tunnelled OR stream.
//
// A sans-IO engine: the driver feeds tor's bytes to receive() and writes every `send`. Random
// nonces come in as arguments, never from a global source.

import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, equalBytes, isTruncated, Reader, WireError, Writer } from '../wire/bytes.js'

/** ext-orport-spec §2.1.2: the cookie file is this 32-byte header, then the 32-byte cookie. */
export const EXT_OR_COOKIE_HEADER = new TextEncoder().encode('! Extended ORPort Auth Cookie !\n')
export const EXT_OR_COOKIE_LEN = 32
export const EXT_OR_NONCE_LEN = 32
export const EXT_OR_HASH_LEN = 32

/** AuthType values (§2.1): 0 ends the list; 1 is SAFE_COOKIE. */
export const ExtOrAuthType = { end: 0, safeCookie: 1 } as const

/** COMMAND codes (§3.1). */
export const ExtOrCommand = {
  DONE: 0x0000,
  USERADDR: 0x0001,
  TRANSPORT: 0x0002,
  OKAY: 0x1000,
  DENY: 0x1001,
  CONTROL: 0x1002,
} as const

const SERVER_TO_CLIENT = new TextEncoder().encode('ExtORPort authentication server-to-client hash')
const CLIENT_TO_SERVER = new TextEncoder().encode('ExtORPort authentication client-to-server hash')

/** The 32-byte cookie from the file's bytes; the header MUST be checked (§2.1.2). */
export function parseExtOrCookieFile(file: Uint8Array): Uint8Array {
  if (file.length !== EXT_OR_COOKIE_HEADER.length + EXT_OR_COOKIE_LEN) {
    throw new WireError('bad-length', `ExtORPort cookie file: ${file.length} bytes, want 64`)
  }
  if (!equalBytes(file.subarray(0, 32), EXT_OR_COOKIE_HEADER)) throw new WireError('bad-value', 'ExtORPort cookie file: wrong header')
  return file.slice(32)
}

/** ServerHash = HMAC-SHA256(CookieString, "…server-to-client hash" | ClientNonce | ServerNonce). */
export function extOrServerHash(cookie: Uint8Array, clientNonce: Uint8Array, serverNonce: Uint8Array): Uint8Array {
  return hmac(sha256, cookie, concatBytes(SERVER_TO_CLIENT, clientNonce, serverNonce))
}

/** ClientHash = HMAC-SHA256(CookieString, "…client-to-server hash" | ClientNonce | ServerNonce). */
export function extOrClientHash(cookie: Uint8Array, clientNonce: Uint8Array, serverNonce: Uint8Array): Uint8Array {
  return hmac(sha256, cookie, concatBytes(CLIENT_TO_SERVER, clientNonce, serverNonce))
}

export interface ExtOrMessage {
  command: number
  body: Uint8Array
}

/** COMMAND [2] | BODYLEN [2] | BODY [BODYLEN] (§3.1). */
export function encodeExtOrMessage(m: ExtOrMessage): Uint8Array {
  if (!Number.isInteger(m.command) || m.command < 0 || m.command > 0xffff) throw new WireError('bad-value', `ExtORPort: command ${m.command}`)
  if (m.body.length > 0xffff) throw new WireError('too-large', `ExtORPort: body of ${m.body.length} bytes`)
  const w = new Writer()
  w.u16(m.command)
  w.vec16((b) => b.bytes(m.body))
  return w.finish()
}

export function decodeExtOrMessage(buf: Uint8Array): { message: ExtOrMessage; used: number } {
  const r = new Reader(buf, 'ExtORPort message')
  const command = r.u16()
  const body = r.vec16().rest().slice()
  return { message: { command, body }, used: buf.length - r.remaining }
}

/** USERADDR body: "1.2.3.4:5678" or "[1:2::3:4]:5678", not NUL-terminated (§3.1.2.1). */
export function formatUserAddr(host: string, port: number): string {
  const h = host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host
  return h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`
}

export type ExtOrClientEvent =
  | { kind: 'send'; bytes: Uint8Array }
  /** Tor said OKAY: from now on the connection is the OR stream. `leftover` is already part of it. */
  | { kind: 'okay'; leftover: Uint8Array }
  | { kind: 'deny' }
  | { kind: 'error'; error: WireError }

export interface ExtOrClientOptions {
  cookie: Uint8Array
  /** 32 random bytes from the driver's World. */
  clientNonce: Uint8Array
  /** The client's address as USERADDR text (formatUserAddr), or undefined to send none. */
  userAddr?: string | undefined
  /** Transport name for TRANSPORT, e.g. "webtunnel". */
  transport?: string | undefined
}

type State = 'auth-types' | 'server-hash' | 'status' | 'reply' | 'done' | 'failed'

/** Longest AuthTypes list: every type 1…255 once, then the 0. */
const MAX_AUTH_TYPES = 256

export class ExtOrPortClient {
  private state: State = 'auth-types'
  private pending: Uint8Array = new Uint8Array(0)

  constructor(private readonly options: ExtOrClientOptions) {
    if (options.cookie.length !== EXT_OR_COOKIE_LEN) throw new Error('ExtOrPortClient: cookie must be 32 bytes')
    if (options.clientNonce.length !== EXT_OR_NONCE_LEN) throw new Error('ExtOrPortClient: client nonce must be 32 bytes')
    if (options.transport !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.transport)) {
      throw new Error('ExtOrPortClient: transport name must be a C identifier')
    }
  }

  get finished(): boolean {
    return this.state === 'done' || this.state === 'failed'
  }

  /** Feed tor's bytes as they arrived. */
  receive(chunk: Uint8Array): ExtOrClientEvent[] {
    if (this.finished) return []
    this.pending = concatBytes(this.pending, chunk)
    const events: ExtOrClientEvent[] = []
    while (!this.finished && this.pending.length > 0) {
      try {
        if (!this.step(events)) break
      } catch (e) {
        if (isTruncated(e)) break
        if (!(e instanceof WireError)) throw e
        this.state = 'failed'
        events.push({ kind: 'error', error: e })
      }
    }
    return events
  }

  /** One message; false when more bytes are needed. */
  private step(events: ExtOrClientEvent[]): boolean {
    const o = this.options
    switch (this.state) {
      case 'auth-types': {
        const end = this.pending.indexOf(ExtOrAuthType.end)
        if (end < 0) {
          if (this.pending.length >= MAX_AUTH_TYPES) throw new WireError('too-large', 'ExtORPort AuthTypes: no terminating 0')
          return false
        }
        const types = this.pending.subarray(0, end)
        this.pending = this.pending.subarray(end + 1)
        if (!types.includes(ExtOrAuthType.safeCookie)) throw new WireError('unsupported', 'ExtORPort: tor does not offer SAFE_COOKIE')
        events.push({ kind: 'send', bytes: concatBytes(Uint8Array.of(ExtOrAuthType.safeCookie), o.clientNonce) })
        this.state = 'server-hash'
        return true
      }
      case 'server-hash': {
        const r = new Reader(this.pending, 'ExtORPort ServerHash/ServerNonce')
        const serverHash = r.bytes(EXT_OR_HASH_LEN)
        const serverNonce = r.bytes(EXT_OR_NONCE_LEN)
        this.pending = this.pending.subarray(64)
        if (!equalBytes(serverHash, extOrServerHash(o.cookie, o.clientNonce, serverNonce))) {
          throw new WireError('bad-value', 'ExtORPort: ServerHash does not match the cookie')
        }
        events.push({ kind: 'send', bytes: extOrClientHash(o.cookie, o.clientNonce, serverNonce) })
        this.state = 'status'
        return true
      }
      case 'status': {
        const status = this.pending[0]
        this.pending = this.pending.subarray(1)
        if (status !== 1) throw new WireError('bad-value', `ExtORPort: authentication status ${status}`)
        const enc = new TextEncoder()
        const msgs: Uint8Array[] = []
        if (o.userAddr !== undefined) msgs.push(encodeExtOrMessage({ command: ExtOrCommand.USERADDR, body: enc.encode(o.userAddr) }))
        if (o.transport !== undefined) msgs.push(encodeExtOrMessage({ command: ExtOrCommand.TRANSPORT, body: enc.encode(o.transport) }))
        msgs.push(encodeExtOrMessage({ command: ExtOrCommand.DONE, body: new Uint8Array(0) }))
        events.push({ kind: 'send', bytes: concatBytes(...msgs) })
        this.state = 'reply'
        return true
      }
      case 'reply': {
        const { message, used } = decodeExtOrMessage(this.pending)
        this.pending = this.pending.subarray(used)
        if (message.command === ExtOrCommand.OKAY) {
          this.state = 'done'
          events.push({ kind: 'okay', leftover: this.pending.slice() })
          this.pending = new Uint8Array(0)
        } else if (message.command === ExtOrCommand.DENY) {
          this.state = 'failed'
          events.push({ kind: 'deny' })
        }
        // §3.1: unknown commands (and CONTROL, unused) are ignored.
        return true
      }
      default:
        return false
    }
  }
}

// One OOB channel over an established TLS connection: the HELLO/AUTH/AUTH_OK exchange, then the
// multiplexer. Both ends use it; `role` says which half of the exchange this end plays.

import type { Duplex } from 'node:stream'
import type { World } from '../../net/world.js'
import { WireError } from '../../wire/bytes.js'
import { authMac, CLIENT_LABEL, HELPER_LABEL, macEqual } from './auth.js'
import { MAX_FRAME_PAYLOAD, NONCE_LENGTH, OOB_VERSION, encodeFrame, type OobFrame } from './frame.js'
import { FrameReader } from './frame-reader.js'
import { Mux, type MuxOptions } from './mux.js'
import { OobError } from './stream.js'

export const DEFAULT_WINDOW = 256 * 1024
export const DEFAULT_AUTH_TIMEOUT_MS = 10_000
/** Bytes we let pile up unread in the channel before giving up on the peer. */
export const MAX_UNREAD_BYTES = 4 * 1024 * 1024

export interface ChannelOptions extends Partial<Omit<MuxOptions, 'role' | 'write' | 'end'>> {
  authTimeoutMs?: number
  /** Called for every frame (the helper's idle clock). */
  onActivity?(): void
}

type State = 'await-hello' | 'await-auth' | 'await-auth-ok' | 'open' | 'closed'

export class OobChannel {
  readonly mux: Mux
  /** Resolves once both ends proved they hold the key. */
  readonly ready: Promise<Mux>
  private state: State
  private readonly reader: FrameReader
  private serverNonce: Uint8Array | undefined
  private clientNonce: Uint8Array | undefined
  private settle!: { resolve: (m: Mux) => void; reject: (e: Error) => void }

  constructor(
    private readonly world: World,
    private readonly transport: Duplex,
    readonly role: 'client' | 'helper',
    private readonly key: Uint8Array,
    opts: ChannelOptions = {},
  ) {
    const maxPayload = opts.maxPayload ?? MAX_FRAME_PAYLOAD
    this.reader = new FrameReader(maxPayload)
    this.ready = new Promise((resolve, reject) => (this.settle = { resolve, reject }))
    this.ready.catch(() => {}) // the owner may only look at mux.closed
    this.mux = new Mux({
      ...opts,
      role,
      maxPayload,
      window: opts.window ?? DEFAULT_WINDOW,
      write: (b) => {
        // Flow control bounds DATA; this bounds everything else (PONGs, RESOLVEDs …) for a peer
        // that sends but never reads.
        if (transport.writableLength > MAX_UNREAD_BYTES) {
          this.close(new OobError('limit', 'peer is not reading'))
          return false
        }
        return transport.write(b)
      },
      end: (err) => this.close(err),
    })
    transport.on('drain', () => this.mux.resume())
    transport.on('data', (d: Buffer) => {
      opts.onActivity?.()
      for (const ev of this.reader.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))) {
        if (this.state === 'closed') return
        if (ev.kind === 'error') return this.close(ev.error)
        this.onFrame(ev.frame)
      }
    })
    const gone = (e?: Error) => this.close(e instanceof Error ? e : new OobError('shutdown', 'channel closed'))
    transport.on('error', gone)
    transport.on('close', () => gone())
    transport.on('end', () => gone())
    const timer = world.setTimer(opts.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS, () => {
      if (this.state !== 'open') this.close(new OobError('timeout', 'authentication not completed in time'))
    })
    this.ready.then(() => timer.cancel(), () => timer.cancel())
    // The peer may have gone between the TLS handshake and now (its close events are past).
    if (transport.destroyed || transport.readableEnded) {
      this.state = role === 'helper' ? 'await-auth' : 'await-hello'
      this.close(new OobError('shutdown', 'connection closed during the TLS handshake'))
      return
    }
    if (role === 'helper') {
      this.serverNonce = world.random(NONCE_LENGTH)
      this.state = 'await-auth'
      this.sendRaw({ type: 'hello', version: OOB_VERSION, serverNonce: this.serverNonce })
    } else {
      this.state = 'await-hello'
    }
  }

  get closed(): boolean {
    return this.state === 'closed'
  }

  close(err: Error = new OobError('shutdown', 'closed')): void {
    if (this.state === 'closed') return
    const wasOpen = this.state === 'open'
    this.state = 'closed'
    this.settle.reject(wasOpen ? err : err instanceof OobError && err.reason !== 'shutdown' ? err : new OobError('authFailed', `channel closed before authentication (${err.message})`))
    this.mux.fail(err)
    this.transport.destroy()
  }

  private sendRaw(f: OobFrame): void {
    this.transport.write(encodeFrame(f))
  }

  private onFrame(f: OobFrame): void {
    switch (this.state) {
      case 'open':
        return this.mux.handle(f)
      case 'await-hello': {
        if (f.type !== 'hello') return this.close(new WireError('bad-value', `OOB: expected HELLO, got ${f.type}`))
        if (f.version !== OOB_VERSION) return this.close(new OobError('refused', `helper speaks version ${f.version}, we speak ${OOB_VERSION}`))
        this.serverNonce = f.serverNonce
        this.clientNonce = this.world.random(NONCE_LENGTH)
        this.state = 'await-auth-ok'
        return this.sendRaw({ type: 'auth', version: OOB_VERSION, clientNonce: this.clientNonce, mac: authMac(this.key, CLIENT_LABEL, f.serverNonce, this.clientNonce) })
      }
      case 'await-auth': {
        if (f.type !== 'auth') return this.close(new WireError('bad-value', `OOB: expected AUTH, got ${f.type}`))
        const expected = authMac(this.key, CLIENT_LABEL, this.serverNonce!, f.clientNonce)
        if (f.version !== OOB_VERSION || !macEqual(expected, f.mac)) return this.close(new OobError('authFailed', 'bad AUTH'))
        this.sendRaw({ type: 'auth-ok', mac: authMac(this.key, HELPER_LABEL, this.serverNonce!, f.clientNonce) })
        return this.open()
      }
      case 'await-auth-ok': {
        if (f.type !== 'auth-ok') return this.close(new WireError('bad-value', `OOB: expected AUTH_OK, got ${f.type}`))
        if (!macEqual(authMac(this.key, HELPER_LABEL, this.serverNonce!, this.clientNonce!), f.mac)) {
          return this.close(new OobError('authFailed', 'the helper does not hold our key'))
        }
        return this.open()
      }
      default:
        return
    }
  }

  private open(): void {
    this.state = 'open'
    this.settle.resolve(this.mux)
  }
}

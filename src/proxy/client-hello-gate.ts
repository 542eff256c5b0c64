// The first thing the proxy does with a tunnel: collect the client's first TLS bytes, however they
// arrive (one segment, many segments, several records — post-quantum hellos are ~1.8 KB and Chrome
// sends them in more than one segment), and decide: a ClientHello we can act on, or not TLS.
// Sans-IO: push(chunk) in, at most one decision out. No byte is dropped or reordered: the decision
// carries every byte pushed so far (`raw` + `rest`, or `bytes`).

import { WireError } from '../wire/bytes.js'
import { type ClientHello, decodeClientHello, viewClientHello } from '../wire/tls/client-hello.js'
import { HandshakeType } from '../wire/tls/handshake.js'
import { HandshakeReader } from '../wire/tls/handshake-reader.js'
import { ContentType, decodeRecord } from '../wire/tls/record.js'

export interface ClientHelloDecision {
  kind: 'client-hello'
  hello: ClientHello
  /** server_name host_name, if the hello has one that parses. */
  sni: string | undefined
  alpn: string[] | undefined
  /** pre_shared_key offered: the client is resuming (its own ticket; a proxy cannot rewrite it). */
  resumption: boolean
  /** The exact bytes of every record up to and including the one that ends the ClientHello. */
  raw: Uint8Array
  /** Bytes after those records (early data, or the start of whatever came next). */
  rest: Uint8Array
  /** Number of TLS records the client used for its hello (more than one: already fragmented). */
  records: number
}

export interface NotTlsDecision {
  kind: 'not-tls'
  /** Every byte received so far, in order. */
  bytes: Uint8Array
  why: string
}

export interface GateErrorDecision {
  kind: 'error'
  /** 'too-large' when the hello would exceed the bound. */
  error: WireError
  bytes: Uint8Array
}

export type GateDecision = ClientHelloDecision | NotTlsDecision | GateErrorDecision

export interface ClientHelloGateOptions {
  /** Largest ClientHello (records included) we wait for. Default 64 KiB. */
  maxHelloBytes?: number
}

export const DEFAULT_MAX_HELLO_BYTES = 64 * 1024

export class ClientHelloGate {
  private readonly maxHelloBytes: number
  private buf = new Uint8Array(2048)
  private length = 0
  /** Offset of the first record not yet parsed. */
  private parsed = 0
  private records = 0
  private readonly handshakes: HandshakeReader
  private decision: GateDecision | undefined

  constructor(options: ClientHelloGateOptions = {}) {
    this.maxHelloBytes = options.maxHelloBytes ?? DEFAULT_MAX_HELLO_BYTES
    this.handshakes = new HandshakeReader({ maxMessageLength: this.maxHelloBytes })
  }

  get decided(): GateDecision | undefined {
    return this.decision
  }
  /** Bytes held while undecided; never more than maxHelloBytes plus one chunk. */
  get buffered(): number {
    return this.length
  }

  /** Feeds the next bytes; returns the decision once there is one (then the caller owns the stream). */
  push(chunk: Uint8Array): GateDecision | undefined {
    if (this.decision) throw new Error('ClientHelloGate: already decided; bytes after the decision belong to the stream')
    this.append(chunk)
    this.decision = this.step()
    return this.decision
  }

  /** The client closed its side before a decision: whatever came is not a ClientHello. */
  end(): GateDecision {
    if (this.decision) return this.decision
    this.decision = this.notTls('stream ended before a complete ClientHello')
    return this.decision
  }

  private step(): GateDecision | undefined {
    if (this.length > 0 && this.buf[0] !== ContentType.handshake) return this.notTls(`first byte 0x${this.buf[0].toString(16)} is not a TLS handshake record`)
    for (;;) {
      let record
      try {
        record = decodeRecord(this.buf.subarray(this.parsed, this.length))
      } catch (e) {
        if (!(e instanceof WireError)) throw e
        if (e.code !== 'truncated') return this.notTls(`record header: ${e.message}`)
        const at = this.parsed
        if (this.length - at >= 5 && at + 5 + ((this.buf[at + 3] << 8) | this.buf[at + 4]) > this.maxHelloBytes) return this.tooLarge()
        return undefined
      }
      const end = this.parsed + record.used
      if (record.record.type !== ContentType.handshake) return this.notTls(`record of type ${record.record.type} before the ClientHello ended`)
      this.parsed = end
      this.records++
      for (const ev of this.handshakes.push(record.record.fragment, this.records - 1)) {
        if (ev.kind === 'error') return ev.error.code === 'too-large' ? this.tooLarge() : this.notTls(ev.error.message)
        const m = ev.message
        if (m.msgType !== HandshakeType.clientHello) return this.notTls(`first handshake message is type ${m.msgType}, not ClientHello`)
        return this.helloDecision(m.body, end)
      }
      if (this.parsed > this.maxHelloBytes) return this.tooLarge()
      if (this.parsed === this.length) return undefined
    }
  }

  private helloDecision(body: Uint8Array, end: number): GateDecision {
    let hello: ClientHello
    try {
      hello = decodeClientHello(body)
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      return this.notTls(`ClientHello does not parse: ${e.message}`)
    }
    // A malformed extension is the server's problem; we only miss its value.
    const view = viewClientHello(hello, () => {})
    const all = this.buf.slice(0, this.length)
    return {
      kind: 'client-hello',
      hello,
      sni: view.serverName,
      alpn: view.alpn,
      resumption: view.hasPreSharedKey,
      raw: all.subarray(0, end),
      rest: all.subarray(end),
      records: this.records,
    }
  }

  private notTls(why: string): NotTlsDecision {
    return { kind: 'not-tls', bytes: this.buf.slice(0, this.length), why }
  }

  private tooLarge(): GateErrorDecision {
    return { kind: 'error', error: new WireError('too-large', `ClientHello larger than ${this.maxHelloBytes} bytes`), bytes: this.buf.slice(0, this.length) }
  }

  private append(chunk: Uint8Array): void {
    if (this.length + chunk.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.length + chunk.length, this.buf.length * 2))
      next.set(this.buf.subarray(0, this.length))
      this.buf = next
    }
    this.buf.set(chunk, this.length)
    this.length += chunk.length
  }
}

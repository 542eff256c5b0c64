// The inspector C5 and C6 share: a real TLS parser on the client's byte stream. TCP reassembly is
// the stream itself (segments arrive in order); the RecordReader deframes records however they are
// cut, the HandshakeReader joins the ClientHello from however many records carry it. Bounded: one
// record in the RecordReader, one hello in the HandshakeReader, and a cap on the bytes it reads.

import { decodeClientHello } from '../../../wire/tls/client-hello.js'
import { HandshakeType } from '../../../wire/tls/handshake.js'
import { HandshakeReader } from '../../../wire/tls/handshake-reader.js'
import { ContentType } from '../../../wire/tls/record.js'
import { RecordReader } from '../../../wire/tls/record-reader.js'
import { WireError } from '../../../wire/bytes.js'
import type { Segment } from '../middlebox.js'
import type { HelloFacts } from './hello.js'
import { helloFacts } from './hello.js'
import { allow, type Decision, type FlowInspector } from './inspector.js'

export interface FullReassemblyLimits {
  /** Largest ClientHello message joined (default 64 KiB). */
  maxHelloBytes?: number
  /** Client bytes read before giving up on finding a hello (default 256 KiB). */
  maxStreamBytes?: number
}

export interface FullReassemblyHooks {
  /** The whole ClientHello: block or allow. */
  hello(facts: HelloFacts): Decision
  /** The stream is not TLS (first bytes, a non-handshake record, or a first message that is not a ClientHello). */
  notTls(why: string): Decision
}

export class FullReassemblyInspector implements FlowInspector {
  private records: RecordReader | undefined = new RecordReader()
  private readonly handshakes: HandshakeReader
  private read = 0
  private recordIndex = 0
  private readonly maxStreamBytes: number

  constructor(
    private readonly hooks: FullReassemblyHooks,
    limits: FullReassemblyLimits = {},
  ) {
    this.handshakes = new HandshakeReader({ maxMessageLength: limits.maxHelloBytes ?? 64 * 1024 })
    this.maxStreamBytes = limits.maxStreamBytes ?? 256 * 1024
  }

  get buffered(): number {
    return (this.records?.buffered ?? 0) + this.handshakes.pending
  }

  push(seg: Segment): Decision | undefined {
    if (!seg.fromClient || seg.bytes.length === 0 || !this.records) return undefined
    this.read += seg.bytes.length
    for (const ev of this.records.push(seg.bytes)) {
      if (ev.kind === 'error') return this.hooks.notTls(`record layer: ${ev.error.message}`)
      const rec = ev.record
      if (rec.type !== ContentType.handshake) return this.hooks.notTls(`record type ${rec.type} before a ClientHello`)
      for (const hev of this.handshakes.push(rec.fragment, this.recordIndex)) {
        if (hev.kind === 'error') return allow(`handshake layer: ${hev.error.message}`, true)
        const m = hev.message
        if (m.msgType !== HandshakeType.clientHello) return this.hooks.notTls(`first handshake message is type ${m.msgType}`)
        try {
          return this.hooks.hello(helloFacts(decodeClientHello(m.body)))
        } catch (e) {
          if (!(e instanceof WireError)) throw e
          return this.hooks.notTls(`ClientHello does not parse: ${e.message}`)
        }
      }
      this.recordIndex++
    }
    if (this.read > this.maxStreamBytes) return allow(`no ClientHello within ${this.maxStreamBytes} bytes`, true)
    return undefined
  }
}

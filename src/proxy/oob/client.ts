// The proxy's side of the OOB helper: one long-lived, authenticated TLS channel (cover SNI of the
// user's choice, helper certificate pinned by SHA-256 or checked against a CA), reused for every
// stream and lookup, re-established on the next use after it dies.

import { createHash } from 'node:crypto'
import type { PeerCertificate } from 'node:tls'
import type { World } from '../../net/world.js'
import { connectTls } from '../../tls/connect.js'
import { OobChannel, type ChannelOptions } from './channel.js'
import type { Mux } from './mux.js'
import type { OobStream } from './stream.js'

export interface OobClientOptions extends ChannelOptions {
  host: string
  port: number
  /** SNI sent to the helper: any name the censor lets through; the certificate need not match it. */
  coverSni: string
  key: Uint8Array
  /** SHA-256 of the helper certificate's DER, hex (colons allowed), as `openssl x509 -fingerprint -sha256` prints. */
  pinSha256?: string
  /** PEM CA bundle the helper's certificate must chain to (its name is not checked: cover SNI). */
  ca?: string
  /** Keep the helper's answers this long (World ms; default 60 s, 0 = no cache). */
  resolveCacheMs?: number
}

/** Names remembered at most; the oldest answer goes first. */
const RESOLVE_CACHE_ENTRIES = 1024

export function certificateSha256(cert: Pick<PeerCertificate, 'raw'>): string {
  return createHash('sha256').update(cert.raw).digest('hex')
}

export function normalisePin(pin: string): string {
  const p = pin.replace(/[:\s]/g, '').toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(p)) throw new Error(`OOB pin: want 64 hex digits (SHA-256), got "${pin}"`)
  return p
}

export class OobClient {
  private channel: OobChannel | undefined
  private connecting: Promise<Mux> | undefined
  private readonly pin: string | undefined
  private stopped = false
  private readonly cache = new Map<string, { addresses: string[]; expires: number }>()

  constructor(
    private readonly world: World,
    private readonly o: OobClientOptions,
  ) {
    if (!o.pinSha256 && !o.ca) throw new Error('OOB client: give the helper certificate pin (--oob-pin) or a CA')
    this.pin = o.pinSha256 ? normalisePin(o.pinSha256) : undefined
  }

  /** The pooled session's multiplexer, connecting (once, shared by concurrent callers) if needed. */
  session(): Promise<Mux> {
    if (this.stopped) return Promise.reject(new Error('OOB client closed'))
    if (this.channel && !this.channel.closed) return this.channel.ready
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined))
    return this.connecting
  }

  async open(host: string, port: number): Promise<OobStream> {
    const mux = await this.session()
    const used = this.channel
    try {
      return await mux.open(host, port)
    } catch (e) {
      // The channel died before the helper answered (a NAT or middlebox dropped a pooled channel
      // unseen): the stream never existed at the helper, so one more try on a fresh channel is safe.
      // A refusal from the helper leaves the channel open and is the answer.
      if (this.stopped || !used?.closed) throw e
      this.world.trace('oob-reopen', { host, port, why: (e as Error).message })
      return (await this.session()).open(host, port)
    }
  }

  /** The helper's addresses for `host`, cached for resolveCacheMs (a lookup is a round trip). */
  async resolve(host: string): Promise<string[]> {
    const key = host.toLowerCase()
    const hit = this.cache.get(key)
    if (hit && hit.expires > this.world.now()) return hit.addresses
    const addresses = await (await this.session()).resolve(host)
    const ttl = this.o.resolveCacheMs ?? 60_000
    if (ttl > 0 && addresses.length > 0) {
      this.cache.delete(key)
      if (this.cache.size >= RESOLVE_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!)
      this.cache.set(key, { addresses, expires: this.world.now() + ttl })
    }
    return addresses
  }

  close(): void {
    this.stopped = true
    this.channel?.close()
  }

  private async connect(): Promise<Mux> {
    const conn = await this.world.net.connect(this.o.host, this.o.port)
    const pin = this.pin
    const tls = await connectTls(this.world, conn, {
      servername: this.o.coverSni,
      ...(this.o.ca ? { ca: this.o.ca } : {}),
      rejectUnauthorized: !pin,
      checkServerIdentity: (_name, cert) => {
        if (pin && certificateSha256(cert) !== pin) return new Error(`OOB helper certificate does not match the pin (got ${certificateSha256(cert)})`)
        return undefined
      },
    })
    // With rejectUnauthorized off, node still calls checkServerIdentity only when authorized; check the pin here too.
    if (pin && certificateSha256(tls.getPeerCertificate(false)) !== pin) {
      tls.destroy()
      conn.destroy()
      throw new Error('OOB helper certificate does not match the pin')
    }
    tls.setNoDelay?.(true)
    this.world.trace('oob-connect', { host: this.o.host, port: this.o.port, sni: this.o.coverSni })
    const ch = new OobChannel(this.world, tls, 'client', this.o.key, this.o)
    this.channel = ch
    return ch.ready
  }
}

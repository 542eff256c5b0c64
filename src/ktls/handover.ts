// Hands a connected, ULP-enabled socket to the kernel after a node:tls handshake (notes §9.2):
// record-exact pump, secrets from the keylog, exact sequence numbers, the client Finished flushed,
// then TLS_TX and TLS_RX. Every "kTLS is on" comes from setsockopt returning 0; every "off" carries
// the step and the errno. If anything fails before TLS_TX is set, node:tls keeps the connection.

import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type tls from 'node:tls'
import { ContentType, TLS_1_3_VERSION, TLS_RX, TLS_TX } from './constants.js'
import { encodeCryptoInfo } from './crypto-info.js'
import { fallbackReason } from './fallback-reason.js'
import { KernelTlsSocket } from './kernel-socket.js'
import type { KtlsAddon } from './native.js'
import { postHandshakeProblem } from './post-handshake.js'
import { handshakeOverPump, type PumpedHandshake } from './pump.js'
import { kernelOffer, offeredRange, probeOnce, type KernelOffer } from './offer.js'
import { SimKtlsSocket } from './sim-kernel.js'
import { openRing, UringTlsSocket } from './uring-socket.js'
import { kernelCryptoInfo, tls12KeyBlock, tls13DirectionKeys } from './traffic-keys.js'

/** How the handed-over socket's records are read and written: recvmsg/sendmsg on readiness, or io_uring. */
export type KtlsIo = 'plain' | 'uring'

export type Handover =
  | { kernel: true; stream: KernelTlsSocket | UringTlsSocket; protocol: string | null; cipher: string; io: KtlsIo; ioNote?: string }
  | { kernel: false; stream: Duplex; protocol: string | null; cipher: string; reason: string }

/** TX set but RX refused: the connection cannot continue (never half-configured, notes §9.2.8). */
export class HalfConfiguredError extends Error {
  override readonly name = 'HalfConfiguredError'
}

function cryptoInfoBytes(h: PumpedHandshake): { tx: Uint8Array; rx: Uint8Array } | string {
  const suite = h.suite
  if (!suite) return `${h.protocol} ${h.cipherName} cannot be handed to the kernel (not an AEAD suite it supports)`
  if (suite.version === TLS_1_3_VERSION) {
    const s = h.secrets.tls13()
    if (!s) return 'no TLS 1.3 traffic secrets arrived on the keylog event'
    // With the pump OpenSSL consumed no application-key record: both directions start at 0.
    return {
      tx: encodeCryptoInfo(kernelCryptoInfo(suite, tls13DirectionKeys(suite, s.client), 0n)),
      rx: encodeCryptoInfo(kernelCryptoInfo(suite, tls13DirectionKeys(suite, s.server), BigInt(h.recordsAfterHandshake))),
    }
  }
  const s = h.secrets.tls12()
  if (!s || !h.serverRandom) return 'no TLS 1.2 master secret or ServerHello.random'
  const kb = tls12KeyBlock(suite, s.masterSecret, s.clientRandom, h.serverRandom)
  const out = { tx: encodeCryptoInfo(kernelCryptoInfo(suite, kb.client, 1n)), rx: encodeCryptoInfo(kernelCryptoInfo(suite, kb.server, 1n + BigInt(h.recordsAfterHandshake))) }
  for (const k of [kb.client.key, kb.server.key, kb.client.writeIv, kb.server.writeIv]) k.fill(0)
  return out
}

function bumpRecSeq(rx: Uint8Array, by: number): Uint8Array {
  // rec_seq sits in the last 8 bytes of every crypto_info struct, big-endian.
  const out = rx.slice()
  const dv = new DataView(out.buffer, out.length - 8, 8)
  dv.setBigUint64(0, dv.getBigUint64(0) + BigInt(by))
  return out
}

export interface HandoverOptions {
  keylogSink?: (line: Buffer) => void
  /** Diagnostics: handover steps and syscall results, one line each, no secrets. */
  trace?: (line: string) => void
  /** The suites to offer; by default what the kernel accepted in the (cached) probe for tlsOptions' versions. */
  offer?: KernelOffer
  /** The data path after the handover (default plain). io_uring that cannot be set up falls back to plain, with ioNote saying why. */
  io?: KtlsIo
}

export async function handOver(raw: Socket, fd: number, addon: KtlsAddon, tlsOptions: tls.ConnectionOptions, opts: HandoverOptions = {}): Promise<Handover> {
  const { keylogSink, trace } = opts
  const offer = opts.offer ?? kernelOffer(probeOnce(addon), ...offeredRange(tlsOptions))
  // With no kernel-capable suite the handshake still happens (with the caller's own options), and
  // the connection stays in userspace for that reason.
  const offered = 'none' in offer ? tlsOptions : { ...tlsOptions, ciphers: offer.ciphers, minVersion: offer.minVersion, maxVersion: offer.maxVersion }
  trace?.('none' in offer ? `offer: normal list (${offer.none})` : `offer: ${offer.ciphers}${offer.dropped.length ? ` (left out: ${offer.dropped.join(', ')})` : ''}`)
  const h = await handshakeOverPump(raw, offered, keylogSink)
  trace?.(`handshake ${h.protocol} ${h.cipherName} heldBack=${h.heldBack.length} recordsAfterHandshake=${h.recordsAfterHandshake} rawBytesWritten=${raw.bytesWritten}`)
  const userspace = (reason: string): Handover => {
    h.secrets.wipe()
    h.continueInUserspace()
    return { kernel: false, stream: h.tls, protocol: h.protocol, cipher: h.cipherName, reason }
  }
  if ('none' in offer) return userspace(offer.none)
  const bytes = cryptoInfoBytes(h)
  if (typeof bytes === 'string') return userspace(bytes)
  if (h.recordsAfterHandshake !== 0) return userspace(`${h.recordsAfterHandshake} record(s) reached OpenSSL after the handshake; sequence numbers unknown`)

  // Records already read past the Finished: decrypt them here from the same RX struct, and start the
  // kernel after them. A partial record cannot be split between us and the kernel.
  const early: Uint8Array[] = []
  let rx = bytes.rx
  if (h.heldBack.length) {
    const sim = new SimKtlsSocket()
    sim.setCryptoInfo(TLS_RX, rx.slice())
    sim.receive(h.heldBack)
    let n = 0
    for (let r = sim.recvmsg(); r; r = sim.recvmsg()) {
      n++
      if (r.recordType === ContentType.applicationData) early.push(r.data)
      // OpenSSL has not seen these bytes yet, so it can still take the whole connection: anything but
      // data and tickets (a KeyUpdate, an alert) is left to it rather than to a kernel that cannot re-key.
      else {
        const problem = r.recordType === ContentType.handshake ? postHandshakeProblem(r.data) : `a TLS record of type ${r.recordType}`
        if (problem) {
          for (const b of [bytes.tx, bytes.rx, rx]) b.fill(0)
          return userspace(`right after the handshake: ${problem}`)
        }
      }
    }
    if (sim.queued) return userspace(`${sim.queued} byte(s) of a partial record were read past the handshake`)
    rx = bumpRecSeq(rx, n)
  }

  h.secrets.wipe()
  const txErr = addon.setCryptoInfo(fd, TLS_TX, bytes.tx)
  if (txErr !== 0) {
    bytes.rx.fill(0)
    rx.fill(0)
    return userspace(fallbackReason('tx', txErr))
  }
  // From here the kernel encrypts: OpenSSL must never write to this socket again.
  h.detach()
  const rxErr = addon.setCryptoInfo(fd, TLS_RX, rx)
  trace?.(`TLS_TX errno=${txErr} TLS_RX errno=${rxErr} early=${early.length}`)
  bytes.rx.fill(0)
  if (rxErr !== 0) {
    h.tls.destroy()
    raw.destroy()
    throw new HalfConfiguredError(`TLS_TX is set but ${fallbackReason('rx', rxErr)}; the connection cannot continue`)
  }
  const own = addon.dup(fd)
  if (own < 0) {
    h.tls.destroy()
    raw.destroy()
    throw new HalfConfiguredError(`dup() of the kTLS socket failed with errno ${-own}`)
  }
  // Node's handle on the original fd must go: two libuv handles must never watch one fd.
  h.tls.destroy()
  raw.destroy()
  const done = { kernel: true as const, protocol: h.protocol, cipher: h.cipherName }
  let ioNote: string | undefined
  if (opts.io === 'uring') {
    const ring = openRing(addon, own)
    trace?.(`io_uring: ${ring.ok ? 'ring ready' : ring.reason}`)
    if (ring.ok) return { ...done, stream: new UringTlsSocket(addon, ring, own, early, trace), io: 'uring' }
    ioNote = `io_uring unavailable: ${ring.reason}`
  }
  return { ...done, stream: new KernelTlsSocket(addon, own, early, trace), io: 'plain', ioNote }
}

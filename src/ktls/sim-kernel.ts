// A model of the kernel's TLS record layer (net/tls/tls_sw.c) that works from nothing but the
// crypto_info bytes we would pass to setsockopt(SOL_TLS, TLS_TX|TLS_RX). If a real peer accepts what
// it sends and it decrypts what the peer sends, the struct contents, the sequence numbers and the
// handover point are right. Kernel semantics modelled: EINVAL on a bad struct, EBUSY on a second
// set (no rekey), EIO for a control record read without a cmsg buffer, EBADMSG when a record
// fails authentication (e.g. wrong rec_seq), 16 KiB record limit on send.

import { gcm } from '@noble/ciphers/aes.js'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { WireError, concatBytes } from '../wire/bytes.js'
import { ContentType, TLS_1_3_VERSION, TLS_CIPHER_CHACHA20_POLY1305, TLS_RX, TLS_TX } from './constants.js'
import { decodeCryptoInfo, type CryptoInfo } from './crypto-info.js'

export type SimErrno = 'EINVAL' | 'EBUSY' | 'EIO' | 'EBADMSG' | 'ENOPROTOOPT'

export class SimKernelError extends Error {
  override readonly name = 'SimKernelError'
  constructor(readonly errno: SimErrno, detail: string) {
    super(`${errno}: ${detail}`)
  }
}

const MAX_PLAINTEXT = 1 << 14
const TAG = 16
const HEADER = 5

interface Direction {
  info: CryptoInfo
  seq: bigint
  /** TLS 1.2 GCM explicit nonce the kernel sends next (it increments along with rec_seq). */
  explicit: bigint
}

function be64(n: bigint): Uint8Array {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, n)
  return b
}

function readBe64(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0)
}

/** 12-byte base XOR (0^4 || seq) — TLS 1.3 all suites, TLS 1.2 ChaCha (RFC 7905). */
function xorNonce(base12: Uint8Array, seq: bigint): Uint8Array {
  const n = base12.slice()
  const s = be64(seq)
  for (let i = 0; i < 8; i++) n[4 + i] ^= s[i]
  return n
}

function aead(info: CryptoInfo, nonce: Uint8Array, aad: Uint8Array) {
  return info.cipherType === TLS_CIPHER_CHACHA20_POLY1305 ? chacha20poly1305(info.key, nonce, aad) : gcm(info.key, nonce, aad)
}

function header(type: number, length: number): Uint8Array {
  return Uint8Array.of(type, 0x03, 0x03, length >> 8, length & 0xff)
}

export interface ReceivedRecord {
  recordType: number
  data: Uint8Array
}

export class SimKtlsSocket {
  private tx?: Direction
  private rx?: Direction
  private inbox: Uint8Array = new Uint8Array(0)

  /** setsockopt(SOL_TLS, TLS_TX | TLS_RX, bytes). */
  setCryptoInfo(dir: typeof TLS_TX | typeof TLS_RX, bytes: Uint8Array): void {
    let info: CryptoInfo
    try {
      info = decodeCryptoInfo(bytes)
    } catch (e) {
      if (e instanceof WireError) throw new SimKernelError('EINVAL', e.message)
      throw e
    }
    const seq = readBe64(info.recSeq)
    const d: Direction = { info, seq, explicit: readBe64(info.iv.length === 8 ? info.iv : new Uint8Array(8)) }
    if (dir === TLS_TX) {
      if (this.tx) throw new SimKernelError('EBUSY', 'TLS_TX already set')
      this.tx = d
    } else {
      if (this.rx) throw new SimKernelError('EBUSY', 'TLS_RX already set')
      this.rx = d
    }
  }

  /** send()/sendmsg(): returns the wire bytes of the records the kernel would write. */
  send(data: Uint8Array, recordType: number = ContentType.applicationData): Uint8Array {
    const tx = this.tx
    if (!tx) throw new SimKernelError('ENOPROTOOPT', 'TLS_TX not set')
    const out: Uint8Array[] = []
    for (let at = 0; at === 0 || at < data.length; at += MAX_PLAINTEXT) {
      out.push(this.sealRecord(tx, data.subarray(at, Math.min(data.length, at + MAX_PLAINTEXT)), recordType))
      if (data.length === 0) break
    }
    return concatBytes(...out)
  }

  private sealRecord(d: Direction, plaintext: Uint8Array, type: number): Uint8Array {
    const { info } = d
    let rec: Uint8Array
    if (info.version === TLS_1_3_VERSION) {
      // TLSInnerPlaintext = content || type; outer type application_data (RFC 8446 §5.2).
      const inner = concatBytes(plaintext, Uint8Array.of(type))
      const hdr = header(ContentType.applicationData, inner.length + TAG)
      const base = info.cipherType === TLS_CIPHER_CHACHA20_POLY1305 ? info.iv : concatBytes(info.salt, info.iv)
      rec = concatBytes(hdr, aead(info, xorNonce(base, d.seq), hdr).encrypt(inner))
    } else {
      // RFC 5246 §6.2.3.3: additional_data = seq_num + type + version + length (of the plaintext).
      const aad = concatBytes(be64(d.seq), Uint8Array.of(type, 0x03, 0x03, plaintext.length >> 8, plaintext.length & 0xff))
      if (info.cipherType === TLS_CIPHER_CHACHA20_POLY1305) {
        rec = concatBytes(header(type, plaintext.length + TAG), aead(info, xorNonce(info.iv, d.seq), aad).encrypt(plaintext))
      } else {
        const explicit = be64(d.explicit)
        const sealed = aead(info, concatBytes(info.salt, explicit), aad).encrypt(plaintext)
        rec = concatBytes(header(type, 8 + sealed.length), explicit, sealed)
        d.explicit++
      }
    }
    d.seq++
    return rec
  }

  /** Bytes arriving from the peer (into the socket's receive queue). */
  receive(wire: Uint8Array): void {
    this.inbox = this.inbox.length ? concatBytes(this.inbox, wire) : wire.slice()
  }

  /** Bytes received but not yet part of a whole record. */
  get queued(): number {
    return this.inbox.length
  }

  /** recvmsg() with a cmsg buffer: the next whole record, or null if it has not fully arrived. */
  recvmsg(): ReceivedRecord | null {
    const rx = this.rx
    if (!rx) throw new SimKernelError('ENOPROTOOPT', 'TLS_RX not set')
    if (this.inbox.length < HEADER) return null
    const length = (this.inbox[3] << 8) | this.inbox[4]
    if (length > MAX_PLAINTEXT + 256) throw new SimKernelError('EBADMSG', `record length ${length}`)
    if (this.inbox.length < HEADER + length) return null
    const rec = this.inbox.subarray(0, HEADER + length)
    this.inbox = this.inbox.subarray(HEADER + length)
    const out = this.openRecord(rx, rec)
    rx.seq++
    return out
  }

  /** Plain recv() (no cmsg buffer): application data only; a control record is EIO and stays queued. */
  recv(): Uint8Array | null {
    const before = this.inbox
    const seq = this.rx?.seq
    const r = this.recvmsg()
    if (r && r.recordType !== ContentType.applicationData) {
      this.inbox = before
      this.rx!.seq = seq!
      throw new SimKernelError('EIO', `record type ${r.recordType} needs recvmsg with a cmsg buffer`)
    }
    return r ? r.data : null
  }

  private openRecord(d: Direction, rec: Uint8Array): ReceivedRecord {
    const { info } = d
    const type = rec[0]
    const body = rec.subarray(HEADER)
    try {
      if (info.version === TLS_1_3_VERSION) {
        const base = info.cipherType === TLS_CIPHER_CHACHA20_POLY1305 ? info.iv : concatBytes(info.salt, info.iv)
        const inner = aead(info, xorNonce(base, d.seq), rec.subarray(0, HEADER)).decrypt(body)
        let end = inner.length
        while (end > 0 && inner[end - 1] === 0) end--
        if (end === 0) throw new SimKernelError('EBADMSG', 'TLSInnerPlaintext without a content type')
        return { recordType: inner[end - 1], data: inner.subarray(0, end - 1) }
      }
      const explicitLen = info.cipherType === TLS_CIPHER_CHACHA20_POLY1305 ? 0 : 8
      const ptLen = body.length - explicitLen - TAG
      if (ptLen < 0) throw new SimKernelError('EBADMSG', 'record shorter than its tag')
      const aad = concatBytes(be64(d.seq), Uint8Array.of(type, 0x03, 0x03, ptLen >> 8, ptLen & 0xff))
      const nonce = explicitLen ? concatBytes(info.salt, body.subarray(0, 8)) : xorNonce(info.iv, d.seq)
      return { recordType: type, data: aead(info, nonce, aad).decrypt(body.subarray(explicitLen)) }
    } catch (e) {
      if (e instanceof SimKernelError) throw e
      throw new SimKernelError('EBADMSG', `record ${d.seq} failed authentication`)
    }
  }
}

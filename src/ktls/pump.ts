// The record-exact handshake pump (notes §5.3, "method B"): node:tls runs over a Duplex we feed one
// whole TLS record at a time, read from the real socket, so that when 'secureConnect' fires OpenSSL
// has seen nothing past the server's Finished. Whatever we already read beyond that point is handed
// back as `heldBack` for the kernel (or the simulated kernel) to decrypt from record sequence 0/1.

import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import tls from 'node:tls'
import { concatBytes } from '../wire/bytes.js'
import { collectSecrets, serverRandomFromRecord, type ConnectionSecrets } from './secrets.js'
import { ktlsSuite, type KtlsSuite } from './suites.js'

export interface PumpedHandshake {
  tls: tls.TLSSocket
  secrets: ConnectionSecrets
  /** undefined when the negotiated suite cannot be carried by the kernel. */
  suite: KtlsSuite | undefined
  protocol: string | null
  cipherName: string
  serverRandom: Uint8Array | undefined
  /** Bytes read from the socket after the server Finished record; OpenSSL never saw them. */
  heldBack: Uint8Array
  /** Records pushed into OpenSSL after it reported the handshake done (must be 0 for exact rx_seq). */
  recordsAfterHandshake: number
  /** From now on the TLSSocket can never write to the real socket again. */
  detach(): void
  /** Restarts libuv reading on the raw socket (for a userspace record layer after the handover). */
  resumeRaw(): void
  /** No handover after all: node:tls keeps the connection, fed from the raw socket from now on. */
  continueInUserspace(): void
}

type RawHandle = { readStop?: () => number; readStart?: () => number; reading?: boolean }

const HEADER = 5

export function handshakeOverPump(raw: Socket, options: tls.ConnectionOptions, keylogSink?: (line: Buffer) => void): Promise<PumpedHandshake> {
  return new Promise((resolve, reject) => {
    let detached = false
    let pendingWrites = 0
    let onFlushed: (() => void) | undefined
    const duplex = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        if (detached) return cb()
        pendingWrites++
        raw.write(chunk, (err) => {
          pendingWrites--
          cb(err ?? null)
          if (pendingWrites === 0) onFlushed?.()
        })
      },
      final(cb) {
        cb()
      },
    })
    const t = tls.connect({ ...options, socket: duplex })
    const secrets = collectSecrets(t, keylogSink)
    let buf: Uint8Array = new Uint8Array(0)
    let done = false
    let pumping = false
    let serverRandom: Uint8Array | undefined
    let firstRecord = true
    let afterDone = 0

    const fail = (e: Error) => {
      raw.off('data', onData)
      secrets.wipe()
      reject(e)
    }
    t.once('error', fail)
    raw.once('error', fail)
    raw.once('end', () => {
      if (!done) fail(new Error('peer closed the connection during the TLS handshake'))
    })

    const resume = () => {
      const handle = (raw as unknown as { _handle?: RawHandle })._handle
      raw.resume()
      if (handle?.readStart && !handle.reading) {
        handle.readStart()
        handle.reading = true
      }
    }

    t.once('secureConnect', () => {
      done = true
      // Stop libuv reading at once: the next bytes belong to the kernel (notes §5.3 trap).
      raw.off('data', onData)
      raw.pause()
      // pause() alone lets libuv keep reading; readStop() stops it now. Clearing `reading` lets a
      // later resume() (simulated kernel, userspace continuation) start it again.
      const handle = (raw as unknown as { _handle?: RawHandle })._handle
      if (handle?.readStop) {
        handle.readStop()
        handle.reading = false
      }
      const finish = () => {
        t.off('error', fail)
        raw.off('error', fail)
        const cipher = t.getCipher()
        resolve({
          tls: t,
          secrets,
          suite: ktlsSuite(cipher.name, t.getProtocol()),
          protocol: t.getProtocol(),
          cipherName: cipher.name,
          serverRandom,
          heldBack: buf,
          recordsAfterHandshake: afterDone,
          detach: () => {
            detached = true
          },
          continueInUserspace: () => {
            if (buf.length) duplex.push(buf)
            buf = new Uint8Array(0)
            raw.on('data', (d: Buffer) => duplex.push(d))
            raw.once('end', () => duplex.push(null))
            raw.once('error', (e) => duplex.destroy(e))
            resume()
          },
          resumeRaw: () => resume(),
        })
      }
      // The flush trap (notes §4): the client Finished must be on the wire before the kernel sends.
      if (pendingWrites === 0) setImmediate(() => (pendingWrites === 0 ? finish() : (onFlushed = finish)))
      else onFlushed = finish
    })

    const pump = async () => {
      if (pumping) return
      pumping = true
      while (!done && buf.length >= HEADER) {
        const len = HEADER + ((buf[3] << 8) | buf[4])
        if (buf.length < len) break
        const rec = buf.slice(0, len)
        buf = buf.subarray(len)
        if (firstRecord) {
          firstRecord = false
          try {
            serverRandom = serverRandomFromRecord(rec)
          } catch {
            serverRandom = undefined // not a ServerHello: OpenSSL will fail the handshake itself
          }
        }
        duplex.push(rec)
        // Let OpenSSL process this record before deciding whether to give it the next one.
        await new Promise<void>((r) => setImmediate(r))
        if (done) break
      }
      pumping = false
    }
    const onData = (chunk: Buffer) => {
      if (done) {
        buf = concatBytes(buf, chunk)
        return
      }
      buf = buf.length ? concatBytes(buf, chunk) : new Uint8Array(chunk)
      void pump()
    }
    raw.on('data', onData)
    // Count any record that would slip into OpenSSL after the handshake (the honest check of exactness).
    const origPush = duplex.push.bind(duplex)
    duplex.push = (chunk: unknown, enc?: BufferEncoding) => {
      if (done && chunk !== null) afterDone++
      return origPush(chunk, enc)
    }
  })
}

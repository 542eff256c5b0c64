// How the planner tells "this strategy got through" from "blocked": after the first flight, watch
// the server's first bytes (RecordReader) until a handshake record starting with ServerHello
// arrives. A reset, an EOF, an alert, non-TLS bytes or silence past the bound is a failure. The
// bytes read are kept so the front can hand them to the client: nothing is lost or sent early.

import type { Conn, World } from '../net/world.js'
import { AlertDescription } from '../wire/tls/alert.js'
import { HandshakeType } from '../wire/tls/handshake.js'
import { ContentType } from '../wire/tls/record.js'
import { RecordReader } from '../wire/tls/record-reader.js'
import { TLS13 } from '../wire/tls/dissect.js'
import { decodeServerHello, isHelloRetryRequest, viewServerHello } from '../wire/tls/server-hello.js'
import type { BlockReason } from './verdict-store.js'

/** tls13: the ServerHello selected TLS 1.3 (a HelloRetryRequest is 1.3 only). */
export type WatchResult = { ok: true; serverBytes: Buffer[]; helloRetry: boolean; tls13: boolean } | { ok: false; reason: BlockReason; detail: string }

const ALERT_NAMES = Object.fromEntries(Object.entries(AlertDescription).map(([k, v]) => [v, k])) as Record<number, string>

export function watchServerHello(world: World, upstream: Conn, timeoutMs: number): Promise<WatchResult> {
  return new Promise((resolve) => {
    const reader = new RecordReader()
    const serverBytes: Buffer[] = []
    let done = false
    const finish = (r: WatchResult) => {
      if (done) return
      done = true
      timer.cancel()
      upstream.off('data', onData)
      upstream.off('error', onError)
      upstream.off('end', onEnd)
      upstream.off('close', onEnd)
      upstream.pause()
      resolve(r)
    }
    const onData = (d: Buffer) => {
      serverBytes.push(d)
      for (const ev of reader.push(d)) {
        if (ev.kind === 'error') return finish({ ok: false, reason: 'no-server-hello', detail: `server sent non-TLS bytes: ${ev.error.message}` })
        const rec = ev.record
        if (rec.type === ContentType.handshake && rec.fragment[0] === HandshakeType.serverHello) {
          // ServerHello body: legacy_version(2) then random(32), after the 4-byte handshake header.
          const helloRetry = rec.fragment.length >= 38 && isHelloRetryRequest({ random: rec.fragment.subarray(6, 38) })
          return finish({ ok: true, serverBytes, helloRetry, tls13: helloRetry || selectsTls13(rec.fragment) })
        }
        if (rec.type === ContentType.alert) {
          const desc = rec.fragment[1]
          return finish({ ok: false, reason: 'alert', detail: `alert ${ALERT_NAMES[desc] ?? desc}` })
        }
        return finish({ ok: false, reason: 'no-server-hello', detail: `first record is type ${rec.type}, not a ServerHello` })
      }
    }
    const onError = (e: Error) => {
      const code = (e as NodeJS.ErrnoException).code
      finish({ ok: false, reason: code === 'ECONNRESET' ? 'reset' : 'error', detail: e.message })
    }
    const onEnd = () => finish({ ok: false, reason: 'closed', detail: 'server closed before a ServerHello' })
    const timer = world.setTimer(timeoutMs, () => finish({ ok: false, reason: 'timeout', detail: `no ServerHello within ${timeoutMs} ms` }))
    upstream.on('data', onData)
    upstream.on('error', onError)
    upstream.on('end', onEnd)
    upstream.on('close', onEnd)
    upstream.resume()
  })
}

/**
 * Whether a ServerHello handshake message (header included) selects TLS 1.3 (supported_versions,
 * RFC 8446 §4.2.1). One that does not parse here (cut across records, say) counts as 1.3: the stall
 * detector then skips one more client record, which can only make it judge less.
 */
export function selectsTls13(message: Uint8Array): boolean {
  const len = (message[1] << 16) | (message[2] << 8) | message[3]
  if (message.length < 4 + len) return true
  try {
    return viewServerHello(decodeServerHello(message.subarray(4, 4 + len))).selectedVersion === TLS13
  } catch {
    return true
  }
}

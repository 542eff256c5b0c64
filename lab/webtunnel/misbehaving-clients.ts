// Test helpers that reproduce the two client bugs WebTunnel servers meet (notes/webtunnel.md §4):
// wrapping the tunnelled bytes in WebSocket frames after the 101 (webtor-rs's original bug), and
// pipelining the first TLS flight before the 101 has arrived.

import { Duplex } from 'node:stream'
import * as tls from 'node:tls'

/** One client-to-server WebSocket frame (RFC 6455 §5.2): FIN, binary opcode, masked. */
export function webSocketFrame(payload: Uint8Array, maskKey: Uint8Array): Uint8Array {
  const len = payload.length
  const head = len < 126 ? [0x82, 0x80 | len] : len <= 0xffff ? [0x82, 0x80 | 126, len >> 8, len & 0xff] : null
  if (!head) throw new Error('webSocketFrame: test helper handles payloads up to 64 KiB')
  const out = new Uint8Array(head.length + 4 + len)
  out.set(head)
  out.set(maskKey, head.length)
  for (let i = 0; i < len; i++) out[head.length + 4 + i] = payload[i] ^ maskKey[i % 4]
  return out
}

/**
 * A Duplex to run a TLS client over that frames every write as a WebSocket message before it
 * reaches `socket`, and passes what comes back through unchanged — the buggy client.
 */
export function framingDuplex(socket: Duplex, maskKey: Uint8Array): Duplex {
  const d = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      socket.write(webSocketFrame(chunk, maskKey), cb)
    },
    read() {
      socket.resume()
    },
    final(cb) {
      socket.end()
      cb()
    },
  })
  socket.on('data', (b) => d.push(b))
  socket.on('end', () => d.push(null))
  socket.on('close', () => d.destroy())
  socket.resume()
  return d
}

/** The bytes of a TLS client's first flight (its ClientHello), taken from node:tls over a sink. */
export function captureClientHello(servername: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const sink = new Duplex({
      write(chunk: Buffer, _enc, cb) {
        resolve(Buffer.from(chunk))
        cb()
        sink.destroy()
      },
      read() {},
    })
    const c = tls.connect({ socket: sink, servername, rejectUnauthorized: false })
    c.on('error', () => {})
  })
}

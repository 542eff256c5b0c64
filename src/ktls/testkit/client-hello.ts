// What a client really offers: a TCP listener that keeps the first TLS record (the ClientHello),
// closes the connection, and decodes the cipher suites and supported_versions from it.

import net from 'node:net'
import { decodeClientHello, viewClientHello } from '../../wire/tls/client-hello.js'
import { decodeHandshake } from '../../wire/tls/handshake.js'

/** Signalling values that are not suites (RFC 5746 §3.3 renegotiation SCSV, RFC 7507 fallback SCSV). */
const SCSV = new Set([0x00ff, 0x5600])

export interface OfferedHello {
  /** Cipher suite code points, SCSVs removed, ascending. */
  suites: number[]
  versions: number[]
}

/** Runs `connect(port)` against a one-shot listener and decodes the ClientHello it sends. */
export async function captureClientHello(connect: (port: number) => void): Promise<OfferedHello> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const first = new Promise<Buffer>((resolve) =>
    server.once('connection', (s) => {
      let buf = Buffer.alloc(0)
      s.on('error', () => {})
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d])
        if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
          resolve(buf.subarray(5, 5 + buf.readUInt16BE(3)))
          s.destroy()
        }
      })
    }),
  )
  connect((server.address() as net.AddressInfo).port)
  const record = await first
  server.close()
  const hello = decodeClientHello(decodeHandshake(record).message.body)
  return { suites: hello.cipherSuites.filter((c) => !SCSV.has(c)).sort((a, b) => a - b), versions: (viewClientHello(hello).supportedVersions ?? []).sort((a, b) => a - b) }
}

// Bench peer for bench/ktls.ts, run as a separate process: serves BYTES of a repeated 64 KiB block
// over HTTP/1.1 with Content-Length, on TLS (with the lab key pair from argv) or plain TCP.
// argv: mode ('tls' | 'tcp') bytes [certFile keyFile]. Prints the port on stdout.

import { readFileSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'

const [mode, bytesArg, certFile, keyFile] = process.argv.slice(2)
const total = Number(bytesArg)
const block = Buffer.alloc(64 * 1024, 0x61)

function serve(sock: net.Socket): void {
  sock.once('data', () => {
    sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\nConnection: close\r\n\r\n`)
    let left = total
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, block.length)
        left -= n
        if (!sock.write(n === block.length ? block : block.subarray(0, n))) return void sock.once('drain', pump)
      }
      sock.end()
    }
    pump()
  })
  sock.on('error', () => {})
}

const server =
  mode === 'tls'
    ? tls.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' }, serve)
    : net.createServer(serve)
server.listen(0, '127.0.0.1', () => console.log((server.address() as net.AddressInfo).port))

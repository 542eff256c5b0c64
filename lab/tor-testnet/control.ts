// A minimal Tor ControlPort client for the lab (control-spec.txt): cookie AUTHENTICATE, a few
// commands, QUIT, and the whole reply text. Enough to ask a node what it knows (GETINFO md/all).

import { readFileSync } from 'node:fs'
import * as net from 'node:net'

export function controlCommands(port: number, cookieFile: string, commands: string[], timeoutMs = 10_000): Promise<string> {
  const cookie = readFileSync(cookieFile).toString('hex')
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error(`control port ${port}: no answer in ${timeoutMs} ms`))
    }, timeoutMs)
    sock.on('data', (d) => chunks.push(d))
    sock.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    sock.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('latin1').replace(/\r/g, ''))
    })
    sock.on('connect', () => {
      sock.write([`AUTHENTICATE ${cookie}`, ...commands, 'QUIT'].map((c) => c + '\r\n').join(''))
    })
  })
}

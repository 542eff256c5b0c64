// Test-only: a tiny on-path "censor" as a TCP relay on 127.0.0.1. It forwards to the real server
// but looks at each chunk the client sends (one chunk ≈ one segment on loopback with Nagle off);
// a chunk containing the blocked name gets the connection reset (RST) or silently black-holed.
// That is rung C1 (per-packet keyword match), enough to make the planner fall through.

import * as net from 'node:net'

export interface KeywordCensor {
  port: number
  hits: number
  close(): Promise<void>
}

export function keywordCensor(upstreamPort: number, name: string, action: 'rst' | 'drop'): Promise<KeywordCensor> {
  const needle = Buffer.from(name)
  const socks = new Set<net.Socket>()
  const censor: KeywordCensor = { port: 0, hits: 0, close: () => new Promise((r) => (socks.forEach((s) => s.destroy()), server.close(() => r()))) }
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    socks.add(client)
    client.setNoDelay(true)
    client.on('error', () => {})
    const up = net.connect(upstreamPort, '127.0.0.1')
    socks.add(up)
    up.setNoDelay(true)
    up.on('error', () => client.destroy())
    let blocked = false
    client.on('data', (d: Buffer) => {
      if (blocked) return
      if (d.includes(needle)) {
        blocked = true
        censor.hits++
        up.destroy()
        if (action === 'rst') client.resetAndDestroy()
        return
      }
      up.write(d)
    })
    client.on('end', () => !blocked && up.end())
    up.on('data', (d: Buffer) => client.write(d))
    up.on('end', () => client.end())
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => ((censor.port = (server.address() as net.AddressInfo).port), resolve(censor))))
}

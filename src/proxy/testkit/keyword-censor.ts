// Test-only: a tiny on-path "censor" as a TCP relay on 127.0.0.1. It forwards to the real server
// but looks at each chunk the client sends (one chunk ≈ one segment on loopback with Nagle off);
// a chunk containing the blocked name gets the connection reset (RST) or silently black-holed, or
// (throttle) the flow carries `afterBytes` bytes in all, both ways, counted from its first, and
// then freezes with both sockets left open (TSPU's freeze). That is rung C1 (per-packet keyword
// match), enough to make the planner fall through.

import * as net from 'node:net'

export interface KeywordCensor {
  port: number
  hits: number
  close(): Promise<void>
}

export type KeywordAction = 'rst' | 'drop' | { throttleAfter: number }

export function keywordCensor(upstreamPort: number, name: string, action: KeywordAction): Promise<KeywordCensor> {
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
    let throttled = false
    let seen = 0
    /** What of `d` may pass: all of it, unless a throttled flow's budget runs out. */
    const allow = (d: Buffer): Buffer => {
      const from = seen
      seen += d.length
      if (!throttled || typeof action !== 'object') return d
      return d.subarray(0, Math.max(0, action.throttleAfter - from))
    }
    client.on('data', (d: Buffer) => {
      if (blocked) return
      if (!throttled && d.includes(needle)) {
        censor.hits++
        if (typeof action === 'object') throttled = true
        else {
          blocked = true
          up.destroy()
          if (action === 'rst') client.resetAndDestroy()
          return
        }
      }
      const pass = allow(d)
      if (pass.length > 0) up.write(pass)
    })
    // A frozen flow's FIN does not pass either; the server side is dropped instead, which frees a
    // one-connection-at-a-time test server (openssl s_server) for the next connection.
    client.on('end', () => (throttled ? up.destroy() : !blocked && up.end()))
    up.on('data', (d: Buffer) => {
      const pass = allow(d)
      if (pass.length > 0) client.write(pass)
    })
    up.on('end', () => !throttled && client.end())
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => ((censor.port = (server.address() as net.AddressInfo).port), resolve(censor))))
}

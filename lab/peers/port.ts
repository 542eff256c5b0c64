// Test-only: free 127.0.0.1 ports and waiting until a peer listens on one.

import * as net from 'node:net'

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise<boolean>((r) => {
    const s = net.connect(port, host)
    s.once('connect', () => (s.destroy(), r(true)))
    s.once('error', () => r(false))
  })
}

/**
 * Polls until every port accepts a connection. `gone` is asked between polls so a peer that died
 * fails at once with its reason instead of after the timeout.
 */
export async function waitForPort(ports: number | number[], opts: { timeoutMs?: number; gone?: () => string | undefined } = {}): Promise<void> {
  const list = typeof ports === 'number' ? [ports] : ports
  const t0 = Date.now()
  for (;;) {
    const why = opts.gone?.()
    if (why !== undefined) throw new Error(why)
    if ((await Promise.all(list.map((p) => isListening(p)))).every(Boolean)) return
    if (Date.now() - t0 > (opts.timeoutMs ?? 10000)) throw new Error(`port ${list.join(', ')} not open`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

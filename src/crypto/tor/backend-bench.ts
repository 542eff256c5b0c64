// Measures the tor1 backends on this machine. Not protocol code: it reads the clock
// (performance.now) on purpose, and nothing on the data path calls it.

import { performance } from 'node:perf_hooks'
import { CELL_BODY_LEN } from '../../wire/tor/cell.js'
import { splitTor1Keys } from './kdf-rfc5869.js'
import { Tor1ClientCrypto, Tor1RelayLayer } from './relay-crypto.js'
import { tor1Backends, type Tor1Backend } from './tor1-backend.js'

export interface BackendMeasurement {
  backend: string
  cells: number
  seconds: number
  /** Cells through the whole circuit per second (see measureRelayCryptoBackends). */
  cellsPerSecond: number
}

/**
 * For each backend, pushes `cells` cells through a 3-hop circuit in both directions: the client
 * seals a cell for the exit and the three relays peel it, then the exit originates one back, the
 * other two add their layers and the client peels and recognises it. That is every tor1 operation
 * a circuit does per cell pair (8 AES passes, 4 digests). A short warm-up runs first.
 */
export function measureRelayCryptoBackends(cells: number, backends: readonly Tor1Backend[] = tor1Backends): BackendMeasurement[] {
  return backends.map((backend) => {
    run(backend, Math.min(200, cells))
    const start = performance.now()
    run(backend, cells)
    const seconds = (performance.now() - start) / 1000
    return { backend: backend.name, cells, seconds, cellsPerSecond: cells / seconds }
  })
}

function run(backend: Tor1Backend, cells: number): void {
  const keys = [1, 2, 3].map((seed) => splitTor1Keys(Uint8Array.from({ length: 72 }, (_, i) => (i * 29 + seed) & 0xff)))
  const client = new Tor1ClientCrypto(backend)
  keys.forEach((k) => client.addHop(k))
  const relays = keys.map((k) => new Tor1RelayLayer(k, backend))
  const body = new Uint8Array(CELL_BODY_LEN)
  for (let n = 0; n < cells; n++) {
    body.fill(0)
    body[0] = 2
    body[10] = 100
    client.encryptOutbound(body, 2)
    relays[0].decryptForward(body)
    relays[1].decryptForward(body)
    if (!relays[2].decryptForward(body)) throw new Error('benchmark cell not recognised at the exit')
    body.fill(0)
    body[0] = 2
    body[10] = 100
    relays[2].originateBackward(body)
    relays[1].encryptBackward(body)
    relays[0].encryptBackward(body)
    if (client.decryptInbound(body)?.hop !== 2) throw new Error('benchmark cell not recognised by the client')
  }
}

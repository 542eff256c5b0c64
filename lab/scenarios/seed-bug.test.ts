// The seed bug as a regression: handshake through the helper, data on a fresh TCP connection to
// the server. What the server and the wire say is asserted here so the docs can point to it.

import { describe, expect, it } from 'vitest'
import { runSeedBug } from './seed-bug.js'

describe('seed-bug scenario', () => {
  for (const seed of [1, 7, 20261122]) {
    it(`seed ${seed}: the server's TLS rejects application data on a fresh connection; the relayed connection works`, async () => {
      const r = await runSeedBug({ seed, log: () => {} })
      expect(r.ok, r.detail).toBe(true)
      const f = r.facts!
      expect(f.handshakeViaHelper).toBe(true)
      // OpenSSL (node:tls) on the fresh accept(): an application_data record where a ClientHello must be.
      expect(f.serverError).toBe('ERR_SSL_UNEXPECTED_MESSAGE (unexpected message)')
      expect(f.alerts).toEqual(['fatal unexpected_message'])
      // The client, holding traffic keys, reads that plaintext alert as a record it cannot accept.
      expect(f.clientError).toBe('ERR_SSL_BAD_RECORD_TYPE (bad record type)')
      expect(f.clientGotResponse).toBe(false)
      expect(f.requestsAfterHandoff).toBe(0)
      expect(f.controlResponse).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    })
  }

  it('is deterministic: the same seed gives the same trace', async () => {
    const a = await runSeedBug({ seed: 3, log: () => {} })
    const b = await runSeedBug({ seed: 3, log: () => {} })
    expect(b.traceHash).toBe(a.traceHash)
  })
})

// Properties of the Tor circuit crypto (src/crypto/tor): ntor gives both ends the same keys for any
// randomness, and tor1 relay crypto delivers any sequence of cells, in both directions and to any
// hop, to exactly the hop it was meant for, with either backend. Engines, not codecs: fewer runs,
// since each run does real x25519 / AES work.

import fc from 'fast-check'
import { x25519 } from '@noble/curves/ed25519.js'
import { describe, expect, it } from 'vitest'
import { toHex } from '../src/wire/bytes.js'
import { CELL_BODY_LEN } from '../src/wire/tor/cell.js'
import { splitTor1Keys } from '../src/crypto/tor/kdf-rfc5869.js'
import { NtorError, ntorClientCreate, ntorClientFinish, ntorServerRespond } from '../src/crypto/tor/ntor.js'
import { Tor1ClientCrypto, Tor1RelayLayer } from '../src/crypto/tor/relay-crypto.js'
import { tor1Backends } from '../src/crypto/tor/tor1-backend.js'

const QUICK = process.env.SULTRY_QUICK === '1'
const exact = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })

describe('ntor', () => {
  it('client and relay derive the same 72 bytes for any keys; a flipped reply bit is refused', () => {
    fc.assert(
      fc.property(exact(32), exact(20), exact(32), exact(32), fc.nat(63), (b, nodeId, x, y, bit) => {
        const relay = { nodeId, ntorOnionKey: x25519.getPublicKey(b), ntorOnionSecret: b }
        const { state, onionSkin } = ntorClientCreate(relay, x)
        const { reply, keyMaterial } = ntorServerRespond(onionSkin, relay, y)
        expect(toHex(ntorClientFinish(state, reply))).toBe(toHex(keyMaterial))
        const bad = reply.slice()
        bad[bit] ^= 1
        expect(() => ntorClientFinish(state, bad)).toThrow(NtorError)
      }),
      { numRuns: QUICK ? 20 : 150 },
    )
  })
})

const step = fc.record({ backward: fc.boolean(), hop: fc.nat(2), fill: fc.integer({ min: 0, max: 255 }), length: fc.nat(498) })

describe.each(tor1Backends.map((b) => [b.name, b] as const))('tor1 over three hops, %s', (_n, backend) => {
  it('every cell is recognised at its own hop only, in any order and direction', () => {
    fc.assert(
      fc.property(fc.array(exact(72), { minLength: 3, maxLength: 3 }), fc.array(step, { minLength: 1, maxLength: 40 }), (material, steps) => {
        const keys = material.map(splitTor1Keys)
        const client = new Tor1ClientCrypto(backend)
        keys.forEach((k) => client.addHop(k))
        const relays = keys.map((k) => new Tor1RelayLayer(k, backend))
        for (const s of steps) {
          const body = new Uint8Array(CELL_BODY_LEN)
          body[0] = 2
          body[9] = s.length >> 8
          body[10] = s.length & 0xff
          body.fill(s.fill, 11, 11 + s.length)
          const plain = toHex(body)
          if (!s.backward) {
            client.encryptOutbound(body, s.hop)
            let at = -1
            for (let i = 0; i < 3 && at < 0; i++) if (relays[i].decryptForward(body)) at = i
            expect(at).toBe(s.hop)
          } else {
            relays[s.hop].originateBackward(body)
            for (let i = s.hop - 1; i >= 0; i--) relays[i].encryptBackward(body)
            expect(client.decryptInbound(body)?.hop).toBe(s.hop)
          }
          // The recognising end sees the plaintext with the digest the sender set.
          expect(toHex(body.subarray(11))).toBe(plain.slice(22))
        }
      }),
      { numRuns: QUICK ? 30 : 300 },
    )
  })
})

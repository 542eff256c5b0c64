import { createCipheriv, createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { toHex } from '../../wire/bytes.js'
import { decodeRelayCell, encodeRelayCell } from '../../wire/tor/relay-cell.js'
import { splitTor1Keys, type CircuitKeys } from './kdf-rfc5869.js'
import { Tor1ClientCrypto, Tor1RelayLayer } from './relay-crypto.js'
import { tor1Backends, type Tor1Backend } from './tor1-backend.js'

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + 7) & 0xff)
const hopKeys = (seed: number): CircuitKeys => splitTor1Keys(bytes(72, seed))

function plainCell(text: string, streamId = 1): Uint8Array {
  return encodeRelayCell({ relayCommand: 2, recognized: 0, streamId, digest: new Uint8Array(4), data: new TextEncoder().encode(text) })
}
const dataOf = (body: Uint8Array) => new TextDecoder().decode(decodeRelayCell(body).data)

/** Exit keys whose first keystream block (forward and backward) has zero bytes 1..2. */
let tempting: CircuitKeys | undefined
function temptingExitKeys(): CircuitKeys {
  const zeroAt12 = (salt: number) => {
    for (let j = 0; ; j++) {
      const key = bytes(16, salt)
      new DataView(key.buffer).setUint32(0, j)
      const b = createCipheriv('aes-128-ecb', key, null).update(Buffer.alloc(16))
      if (b[1] === 0 && b[2] === 0) return key
    }
  }
  tempting ??= { ...hopKeys(2), Kf: zeroAt12(5), Kb: zeroAt12(6) }
  return tempting
}

function circuit(backend: Tor1Backend, hops = 3) {
  const keys = Array.from({ length: hops }, (_, i) => hopKeys(i + 1))
  const client = new Tor1ClientCrypto(backend)
  keys.forEach((k) => client.addHop(k))
  const relays = keys.map((k) => new Tor1RelayLayer(k, backend))
  /** Client -> relays: returns the index of the relay that recognised it (or -1). */
  const sendForward = (body: Uint8Array): number => {
    for (let i = 0; i < relays.length; i++) if (relays[i].decryptForward(body)) return i
    return -1
  }
  /** Relay `from` originates a cell; each earlier relay adds its layer on the way back. */
  const sendBackward = (body: Uint8Array, from: number) => {
    relays[from].originateBackward(body)
    for (let i = from - 1; i >= 0; i--) relays[i].encryptBackward(body)
  }
  return { client, relays, sendForward, sendBackward }
}

describe.each(tor1Backends.map((b) => [b.name, b] as const))('tor1 relay crypto, %s backend', (_name, backend) => {
  it('seals one hop exactly as tor-spec §6.1 + §5.5 describe (checked against one-shot OpenSSL)', () => {
    const keys = hopKeys(9)
    const client = new Tor1ClientCrypto(backend)
    client.addHop(keys)
    const body = plainCell('hello')
    const plain = body.slice()
    const digest = client.encryptOutbound(body, 0)

    // Independent reconstruction: digest = SHA-1(Df | body with digest zeroed); then AES-128-CTR, IV 0.
    const expectDigest = createHash('sha1').update(keys.Df).update(plain).digest()
    expect(toHex(digest)).toBe(expectDigest.toString('hex'))
    plain.set(expectDigest.subarray(0, 4), 5)
    const expectCipher = createCipheriv('aes-128-ctr', keys.Kf, Buffer.alloc(16)).update(plain)
    expect(toHex(body)).toBe(expectCipher.toString('hex'))
  })

  it('round-trips through three hops both ways, recognised exactly at the addressed hop', () => {
    const c = circuit(backend)
    // Mixed order: the digests of hops that only pass a cell on must not move.
    const targets = [2, 1, 2, 0, 2, 2, 1, 0, 1, 2]
    targets.forEach((hop, n) => {
      const body = plainCell(`forward ${n}`)
      c.client.encryptOutbound(body, hop)
      expect(c.sendForward(body)).toBe(hop)
      expect(dataOf(body)).toBe(`forward ${n}`)
    })
    targets.forEach((hop, n) => {
      const body = plainCell(`backward ${n}`)
      c.sendBackward(body, hop)
      const got = c.client.decryptInbound(body)
      expect(got?.hop).toBe(hop)
      expect(dataOf(body)).toBe(`backward ${n}`)
    })
  })

  it('round-trips through five hops (more layers than one peeling pass takes)', () => {
    const c = circuit(backend, 5)
    const targets = [4, 0, 3, 4, 1, 2, 4, 4, 0, 3]
    targets.forEach((hop, n) => {
      const body = plainCell(`back ${n}`)
      c.sendBackward(body, hop)
      expect(c.client.decryptInbound(body)?.hop).toBe(hop)
      expect(dataOf(body)).toBe(`back ${n}`)
    })
  })

  it('a middle hop recognises a cell addressed to it and the exit never sees it', () => {
    const c = circuit(backend)
    const body = plainCell('for the middle', 0)
    c.client.encryptOutbound(body, 1)
    expect(c.relays[0].decryptForward(body)).toBeUndefined()
    expect(c.relays[1].decryptForward(body)).toBeDefined()
    expect(dataOf(body)).toBe('for the middle')
  })

  it('the digest of the recognised cell is the same on both ends (what SENDME v1 echoes)', () => {
    const c = circuit(backend)
    const body = plainCell('x')
    const sent = c.client.encryptOutbound(body, 2)
    c.relays[0].decryptForward(body)
    c.relays[1].decryptForward(body)
    expect(toHex(c.relays[2].decryptForward(body)!)).toBe(toHex(sent))
    const back = plainCell('y')
    const origin = c.relays[2].originateBackward(back)
    c.relays[1].encryptBackward(back)
    c.relays[0].encryptBackward(back)
    expect(toHex(c.client.decryptInbound(back)!.digest)).toBe(toHex(origin))
  })

  it('a hop that sees Recognized == 0 on a cell for a later hop keeps its digest (snapshot/restore)', () => {
    // After hop 1 peels its layer, only the exit's layer remains over Recognized; when the exit's
    // first keystream block has zero bytes 1..2, hop 1 sees Recognized == 0 on a cell that is not
    // its own. Such exit keys were searched for with OpenSSL (outside the code under test).
    const k1 = hopKeys(1)
    const k2 = temptingExitKeys()
    const client = new Tor1ClientCrypto(backend)
    const relays = [hopKeys(0), k1, k2].map((k) => new Tor1RelayLayer(k, backend))
    ;[hopKeys(0), k1, k2].forEach((k) => client.addHop(k))

    const fwd = plainCell('to the exit')
    client.encryptOutbound(fwd, 2)
    expect(relays[0].decryptForward(fwd)).toBeUndefined()
    expect([fwd[1], fwd[2]]).not.toEqual([0, 0])
    const atMiddle = fwd.slice()
    expect(relays[1].decryptForward(fwd)).toBeUndefined()
    expect([fwd[1], fwd[2]]).toEqual([0, 0]) // the hop really was tempted
    expect(toHex(fwd)).not.toBe(toHex(atMiddle))
    expect(relays[2].decryptForward(fwd)).toBeDefined()
    // Had hop 1 folded that cell into its digest, this one would not be recognised.
    const next = plainCell('to the middle')
    client.encryptOutbound(next, 1)
    relays[0].decryptForward(next)
    expect(relays[1].decryptForward(next)).toBeDefined()

    const back = plainCell('from the exit')
    relays[2].originateBackward(back)
    relays[1].encryptBackward(back)
    relays[0].encryptBackward(back)
    expect(client.decryptInbound(back)?.hop).toBe(2)
    const back2 = plainCell('from the middle')
    relays[1].originateBackward(back2)
    relays[0].encryptBackward(back2)
    expect(client.decryptInbound(back2)?.hop).toBe(1)
  })

  it('a tampered cell is recognised nowhere, in either direction', () => {
    const c = circuit(backend)
    const body = plainCell('tamper me')
    c.client.encryptOutbound(body, 2)
    body[200] ^= 0x01
    expect(c.sendForward(body)).toBe(-1)

    const c2 = circuit(backend)
    const back = plainCell('tamper me too')
    c2.sendBackward(back, 2)
    back[20] ^= 0x80
    expect(c2.client.decryptInbound(back)).toBeUndefined()
  })
})

describe('backends agree', () => {
  it('produce identical ciphertext for the same circuit and cells', () => {
    const outs = tor1Backends.map((b) => {
      const c = circuit(b)
      const out: string[] = []
      for (let n = 0; n < 40; n++) {
        const body = plainCell(`cell ${n}`.repeat(n % 7))
        c.client.encryptOutbound(body, n % 3)
        out.push(toHex(body))
      }
      return out.join('')
    })
    expect(outs[0]).toBe(outs[1])
  })

  it.each(tor1Backends.map((b) => [b.name, b] as const))('%s keystream matches one-shot OpenSSL AES-128-CTR across its refills, by apply and take', (_name, backend) => {
    const key = bytes(16, 3)
    const ks = backend.aes128Ctr(key)
    // ~140 KB: buffers of 1, 2, 4 … 32 KiB are refilled many times, and odd sizes straddle them.
    const sizes = [509, 1, 15, 16, 17, 512, 0, 3000, 509, 77, 40000]
    const total = new Uint8Array(sizes.reduce((a, b) => a + b, 0) * 3)
    let off = 0
    for (let round = 0; round < 3; round++) {
      for (const [k, n] of sizes.entries()) {
        const part = total.subarray(off, off + n)
        if (n <= 512 && (k + round) % 2 === 0) part.set(ks.take(n))
        else ks.apply(part)
        off += n
      }
    }
    const expected = createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(new Uint8Array(total.length))
    expect(toHex(total)).toBe(expected.toString('hex'))
    expect(() => ks.take(513)).toThrow(RangeError)
  })
})

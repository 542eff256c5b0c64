// tor1 relay crypto (tor-spec §5.5 "Routing relay cells", §6.1 digests): per hop, a forward and a
// backward AES-128-CTR stream and a running SHA-1 seeded with Df / Db. Operates in place on
// 509-byte relay bodies (the RELAY cell payload).

import { CELL_BODY_LEN } from '../../wire/tor/cell.js'
import { DIGEST_LEN, DIGEST_OFFSET, RECOGNIZED_OFFSET } from '../../wire/tor/relay-cell.js'
import type { CircuitKeys } from './kdf-rfc5869.js'
import { defaultTor1Backend, type Keystream, type RunningDigest, type Tor1Backend } from './tor1-backend.js'
import { xorLayers } from './xor.js'

/** One direction of one hop: its keystream and its running digest. */
class Direction {
  readonly stream: Keystream
  readonly digest: RunningDigest
  constructor(key: Uint8Array, digestSeed: Uint8Array, backend: Tor1Backend) {
    this.stream = backend.aes128Ctr(key)
    this.digest = backend.runningSha1(digestSeed)
  }

  /** Originating end: fold the cell (digest field zeroed) into the digest and write its first 4 bytes. */
  seal(body: Uint8Array): Uint8Array {
    body.fill(0, DIGEST_OFFSET, DIGEST_OFFSET + DIGEST_LEN)
    this.digest.update(body)
    const full = this.digest.current()
    body.set(full.subarray(0, DIGEST_LEN), DIGEST_OFFSET)
    return full
  }

  /**
   * Receiving end, after decryption: the cell is ours iff Recognized == 0 and the digest matches.
   * The digest is tried without committing and folded in only on a match, so a cell meant for a
   * later hop (or a forged one) leaves this hop's state untouched.
   */
  recognize(body: Uint8Array): Uint8Array | undefined {
    if (body[RECOGNIZED_OFFSET] !== 0 || body[RECOGNIZED_OFFSET + 1] !== 0) return undefined
    const s0 = body[DIGEST_OFFSET]
    const s1 = body[DIGEST_OFFSET + 1]
    const s2 = body[DIGEST_OFFSET + 2]
    const s3 = body[DIGEST_OFFSET + 3]
    body.fill(0, DIGEST_OFFSET, DIGEST_OFFSET + DIGEST_LEN)
    const full = this.digest.currentWith(body)
    const ours = full[0] === s0 && full[1] === s1 && full[2] === s2 && full[3] === s3
    if (ours) this.digest.update(body)
    body[DIGEST_OFFSET] = s0
    body[DIGEST_OFFSET + 1] = s1
    body[DIGEST_OFFSET + 2] = s2
    body[DIGEST_OFFSET + 3] = s3
    return ours ? full : undefined
  }
}

function checkBody(body: Uint8Array): void {
  if (body.length !== CELL_BODY_LEN) throw new RangeError(`relay body must be ${CELL_BODY_LEN} bytes, got ${body.length}`)
}

/** The client's view of a circuit: one tor1 layer per hop, hop 0 nearest. */
export class Tor1ClientCrypto {
  private readonly forward: Direction[] = []
  private readonly backward: Direction[] = []
  /** Scratch for decryptInbound: keystream views not yet applied. */
  private readonly layers: Uint8Array[] = []
  constructor(private readonly backend: Tor1Backend = defaultTor1Backend) {}

  get hopCount(): number {
    return this.forward.length
  }

  /** Adds the next hop once its handshake has produced keys. */
  addHop(keys: CircuitKeys): void {
    this.forward.push(new Direction(keys.Kf, keys.Df, this.backend))
    this.backward.push(new Direction(keys.Kb, keys.Db, this.backend))
  }

  /**
   * Prepares a plaintext relay body (Recognized 0) for hop `hop`: sets its digest from that hop's
   * forward digest, then encrypts from that hop back to the first. Works in place. Returns the
   * 20-byte running digest after this cell (what a SENDME v1 for it will carry).
   */
  encryptOutbound(body: Uint8Array, hop: number): Uint8Array {
    checkBody(body)
    if (!Number.isInteger(hop) || hop < 0 || hop >= this.forward.length) throw new RangeError(`no hop ${hop}`)
    const digest = this.forward[hop].seal(body)
    for (let i = hop; i >= 0; i--) this.forward[i].stream.apply(body)
    return digest
  }

  /**
   * Peels layers from the first hop outward until one recognises the cell. Works in place: on
   * success `body` is the plaintext relay body. `undefined` means no hop sent it — the circuit
   * must be closed (the keystreams have moved on and cannot be rewound).
   */
  decryptInbound(body: Uint8Array): { hop: number; digest: Uint8Array } | undefined {
    checkBody(body)
    // Layers are peeled in one pass (xorLayers) up to the first hop that could recognise the cell:
    // Recognized after peeling hops 0..i is body[1..2] XOR their keystreams there, so only those
    // two bytes are followed until they come out zero. Each hop's keystream is taken only once the
    // cell reaches it, exactly as when peeling layer by layer.
    const layers = this.layers
    let r1 = body[RECOGNIZED_OFFSET]
    let r2 = body[RECOGNIZED_OFFSET + 1]
    try {
      for (let i = 0; i < this.backward.length; i++) {
        const ks = this.backward[i].stream.take(CELL_BODY_LEN)
        layers.push(ks)
        r1 ^= ks[RECOGNIZED_OFFSET]
        r2 ^= ks[RECOGNIZED_OFFSET + 1]
        if (r1 !== 0 || r2 !== 0) continue
        xorLayers(body, layers)
        layers.length = 0
        const digest = this.backward[i].recognize(body)
        if (digest) return { hop: i, digest }
      }
      xorLayers(body, layers)
      return undefined
    } finally {
      layers.length = 0
    }
  }
}

/** One relay's layer of a circuit: what a relay (or our simulated relays) does with tor1. */
export class Tor1RelayLayer {
  private readonly forward: Direction
  private readonly backward: Direction
  constructor(keys: CircuitKeys, backend: Tor1Backend = defaultTor1Backend) {
    this.forward = new Direction(keys.Kf, keys.Df, backend)
    this.backward = new Direction(keys.Kb, keys.Db, backend)
  }

  /**
   * A cell arriving from the client side: remove our layer; if we recognise it, it is for us
   * (returns the 20-byte digest), otherwise it goes on to the next hop as it now is.
   */
  decryptForward(body: Uint8Array): Uint8Array | undefined {
    checkBody(body)
    this.forward.stream.apply(body)
    return this.forward.recognize(body)
  }

  /** A cell this relay sends toward the client: set its digest, then add our layer. */
  originateBackward(body: Uint8Array): Uint8Array {
    checkBody(body)
    const digest = this.backward.seal(body)
    this.backward.stream.apply(body)
    return digest
  }

  /** A cell from further along the circuit, passing through toward the client: add our layer. */
  encryptBackward(body: Uint8Array): void {
    checkBody(body)
    this.backward.stream.apply(body)
  }
}

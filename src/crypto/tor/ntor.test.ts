import { describe, expect, it } from 'vitest'
import { x25519 } from '@noble/curves/ed25519.js'
import { fromHex, toHex } from '../../wire/bytes.js'
import { NtorError, ntorClientCreate, ntorClientFinish, ntorServerRespond } from './ntor.js'

// arti crates/tor-proto/src/crypto/handshake/ntor.rs `fn testvec` (zydou/arti mirror): fixed b, x, y
// and ID with the expected onion skin, reply and 72 bytes of keys.
const V = {
  b: '4820544f4c4420594f5520444f474954204b454550532048415050454e494e47',
  B: 'ccbc8541904d18af08753eae967874749e6149f873de937f57f8fd903a21c471',
  x: '706f6461792069207075742e2e2e2e2e2e2e2e4a454c4c59206f6e2074686973',
  X: 'e65dfdbef8b2635837fe2cebc086a8096eae3213e6830dc407516083d412b078',
  y: '70686520737175697272656c2e2e2e2e2e2e2e2e686173206869732067616d65',
  Y: '390480a14362761d6aec1fea840f6e9e928fb2adb7b25c670be1045e35133a37',
  id: '69546f6c64596f7541626f75745374616972732e',
  clientHandshake:
    '69546f6c64596f7541626f75745374616972732eccbc8541904d18af08753eae967874749e6149f873de937f57f8fd903a21c471e65dfdbef8b2635837fe2cebc086a8096eae3213e6830dc407516083d412b078',
  serverHandshake:
    '390480a14362761d6aec1fea840f6e9e928fb2adb7b25c670be1045e35133a371cbdf68b89923e1f85e8e18ee6e805ea333fe4849c790ffd2670bd80fec95cc8',
  keys: '0c62dee7f48893370d0ef896758d35729867beef1a5121df80e00f79ed349af39b51cae125719182f19d932a667dae1afbf2e336e6910e7822223e763afad0a13342157969dc6b79',
}

const relay = { nodeId: fromHex(V.id), ntorOnionKey: fromHex(V.B), ntorOnionSecret: fromHex(V.b) }

describe('ntor (tor-spec §5.1.4)', () => {
  it('reproduces arti ntor.rs testvec byte for byte', () => {
    expect(toHex(x25519.getPublicKey(fromHex(V.b)))).toBe(V.B)
    const { state, onionSkin } = ntorClientCreate(relay, fromHex(V.x))
    expect(toHex(onionSkin)).toBe(V.clientHandshake)
    const server = ntorServerRespond(onionSkin, relay, fromHex(V.y))
    expect(toHex(server.reply)).toBe(V.serverHandshake)
    expect(toHex(server.keyMaterial)).toBe(V.keys)
    expect(toHex(ntorClientFinish(state, server.reply))).toBe(V.keys)
  })

  it('client and relay agree on keys for fresh randomness', () => {
    const seed = (n: number) => Uint8Array.from({ length: 32 }, (_, i) => (i * 31 + n) & 0xff)
    const b = seed(1)
    const r = { nodeId: seed(2).subarray(0, 20), ntorOnionKey: x25519.getPublicKey(b), ntorOnionSecret: b }
    const { state, onionSkin } = ntorClientCreate(r, seed(3))
    const server = ntorServerRespond(onionSkin, r, seed(4), 92)
    expect(toHex(ntorClientFinish(state, server.reply, 92))).toBe(toHex(server.keyMaterial))
    expect(server.keyMaterial.length).toBe(92)
  })

  it('rejects a tampered reply, a skin for another relay, and small-order keys', () => {
    const { state, onionSkin } = ntorClientCreate(relay, fromHex(V.x))
    const reply = fromHex(V.serverHandshake)
    reply[60] ^= 7
    expect(() => ntorClientFinish(state, reply)).toThrow(expect.objectContaining({ code: 'bad-auth' }))
    const other = onionSkin.slice()
    other[0] ^= 1
    expect(() => ntorServerRespond(other, relay, fromHex(V.y))).toThrow(NtorError)
    const zeroY = new Uint8Array(64)
    expect(() => ntorClientFinish(state, zeroY)).toThrow(expect.objectContaining({ code: 'bad-dh' }))
    expect(() => ntorClientFinish(state, new Uint8Array(63))).toThrow(expect.objectContaining({ code: 'bad-length' }))
  })
})

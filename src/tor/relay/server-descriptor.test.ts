// A sim bridge's server descriptor read back by the client's bridge code (src/tor/bridge.ts), and
// its router-signature checked the way dir-spec §2.1.1 defines it: PKCS#1 v1.5 over the SHA-1 of
// the text from "router" through "router-signature\n", by the identity key the fingerprint names.

import { constants, createPublicKey, publicDecrypt } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Rng } from '../../net/sim/rng.js'
import { toHex } from '../../wire/bytes.js'
import { parseServerDescriptorKeys } from '../bridge.js'
import { tokenize } from '../dir/netdoc.js'
import { sha1 } from '../dir/rsa.js'
import { serverDescriptor } from './dir-docs.js'
import { generateRelayKeys } from './keys.js'

const rng = new Rng(9).stream('server-descriptor')
const keys = generateRelayKeys((n) => rng.bytes(n), 'bridge0', 0)
const entry = {
  nickname: 'bridge0',
  address: '10.0.2.9',
  orPort: 9001,
  rsaId: keys.rsaId,
  ed25519Id: keys.ed25519Identity.public,
  ntorOnionKey: keys.ntor.public,
  flags: ['Running', 'Valid'],
  bandwidth: 1000,
}

describe('serverDescriptor', () => {
  const text = serverDescriptor(keys, entry, Date.UTC(2026, 11, 7, 12))

  it('gives the bridge client its nickname, ntor onion key and Ed25519 identity', () => {
    const k = parseServerDescriptorKeys(text)
    expect(k.nickname).toBe('bridge0')
    expect(toHex(k.ntorOnionKey)).toBe(toHex(keys.ntor.public))
    expect(toHex(k.ed25519Id!)).toBe(toHex(keys.ed25519Identity.public))
  })

  it('is signed by the identity key its fingerprint names, over router … router-signature', () => {
    const items = tokenize(text, 'server descriptor')
    expect(items[0].keyword).toBe('router')
    expect(items.at(-1)!.keyword).toBe('router-signature')
    const fp = items.find((i) => i.keyword === 'fingerprint')!.args.join('')
    expect(fp).toBe(toHex(keys.rsaId).toUpperCase())
    const signed = text.slice(0, text.indexOf('router-signature\n') + 'router-signature\n'.length)
    const sig = Buffer.from(items.at(-1)!.object!.bytes)
    const key = createPublicKey(keys.rsaIdentity)
    expect(toHex(new Uint8Array(publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, sig)))).toBe(toHex(sha1(new TextEncoder().encode(signed))))
  })
})

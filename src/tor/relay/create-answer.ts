// Answering a circuit-creating cell (tor-spec §5.1): CREATE2 with the ntor handshake (HTYPE 2) or
// CREATE_FAST (first hop only, as bridges allow it for our client). Pure apart from the random
// bytes passed in: returns the reply message and the hop's tor1 keys, or throws NtorError.

import { splitTor1Keys, type CircuitKeys } from '../../crypto/tor/kdf-rfc5869.js'
import { CREATE_FAST_KEY_LEN, createFastServer } from '../../crypto/tor/create-fast.js'
import { KEY_LEN, NTOR_HTYPE, NtorError, ntorServerRespond, type NtorRelaySecret } from '../../crypto/tor/ntor.js'
import type { ChanMsg } from '../../wire/tor/chan-msg.js'

export type CreateMsg = Extract<ChanMsg, { cmd: 'CREATE2' } | { cmd: 'CREATE_FAST' }>

/** The handshake answer to a CREATE2 (or EXTEND2's contents) / CREATE_FAST. */
export function answerCreate(msg: CreateMsg, ntor: NtorRelaySecret, random: (n: number) => Uint8Array): { reply: ChanMsg; keys: CircuitKeys } {
  if (msg.cmd === 'CREATE_FAST') {
    const { reply, keyMaterial } = createFastServer(msg.handshakeData, random(CREATE_FAST_KEY_LEN))
    return { reply: { cmd: 'CREATED_FAST', handshakeData: reply }, keys: splitTor1Keys(keyMaterial) }
  }
  if (msg.handshakeType !== NTOR_HTYPE) throw new NtorError('bad-length', `CREATE2 handshake type ${msg.handshakeType} is not ntor`)
  const { reply, keyMaterial } = ntorServerRespond(msg.handshakeData, ntor, random(KEY_LEN))
  return { reply: { cmd: 'CREATED2', handshakeData: reply }, keys: splitTor1Keys(keyMaterial) }
}

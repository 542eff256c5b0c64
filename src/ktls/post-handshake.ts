// Handshake messages that can follow the handshake (RFC 8446 §4.6), as they come out of the kernel
// in one decrypted record of type 22: a sequence of [msg_type u8][length u24][body]. The kernel
// socket and the handover need only the types: tickets are ignored (no resumption here), a KeyUpdate
// cannot be honoured (the 6.1 kernel has no way to take new RX keys), anything else is a protocol error.

import { Reader } from '../wire/bytes.js'

export const HandshakeType = { newSessionTicket: 4, keyUpdate: 24 } as const

/** The msg_type of each handshake message in a record; WireError if the record does not split exactly. */
export function postHandshakeTypes(record: Uint8Array): number[] {
  const r = new Reader(record, 'post-handshake record')
  const types: number[] = []
  while (r.remaining > 0) {
    const type = r.u8()
    r.skip(r.u24())
    types.push(type)
  }
  return types
}

/** Why a post-handshake record stops the kernel path, or undefined if it holds only tickets. */
export function postHandshakeProblem(record: Uint8Array): string | undefined {
  let types: number[]
  try {
    types = postHandshakeTypes(record)
  } catch (e) {
    // A handshake message split across records: legal in TLS, not expected from any server for these.
    return `post-handshake record does not hold whole messages (${e instanceof Error ? e.message : String(e)})`
  }
  if (types.includes(HandshakeType.keyUpdate)) return 'peer sent KeyUpdate: re-keying the kernel is not supported by this client (Linux 6.1 kTLS cannot take new keys)'
  const other = types.find((t) => t !== HandshakeType.newSessionTicket)
  return other === undefined ? undefined : `unexpected post-handshake message type ${other}`
}

// What one record the kernel delivered (plaintext and the record-type cmsg) means for the
// user-facing stream, whichever data path read it (recvmsg or io_uring).

import type { Readable } from 'node:stream'
import { ContentType } from './constants.js'
import { postHandshakeProblem, postHandshakeTypes } from './post-handshake.js'

export type RecordMeaning =
  | { kind: 'data'; data: Uint8Array }
  /** Post-handshake messages that need nothing from us (NewSessionTickets: no resumption here). */
  | { kind: 'tickets'; count: number }
  | { kind: 'close-notify'; alert: number[] }
  | { kind: 'error'; error: Error; alert?: number[] }

export function recordMeaning(recordType: number, data: Uint8Array): RecordMeaning {
  if (recordType === ContentType.applicationData) return { kind: 'data', data }
  if (recordType === ContentType.handshake) {
    // Checked before anything after it is read: past a KeyUpdate the kernel would be decrypting
    // with the old key, so the stream must stop here rather than deliver garbage or EBADMSG.
    const problem = postHandshakeProblem(data)
    return problem ? { kind: 'error', error: new Error(problem) } : { kind: 'tickets', count: postHandshakeTypes(data).length }
  }
  if (recordType === ContentType.alert) {
    const alert = [...data]
    if (data[0] === 1 && data[1] === 0) return { kind: 'close-notify', alert }
    return { kind: 'error', error: new Error(`TLS alert ${data[0]}/${data[1]} from the peer`), alert }
  }
  return { kind: 'error', error: new Error(`unexpected TLS record type ${recordType}`) }
}

/** What the post-handshake records of a connection amounted to, for its report. */
export interface KernelControl {
  tickets: number
  alerts: number[][]
}

/**
 * Hands one record to the user-facing stream: data is pushed, tickets counted, alerts kept;
 * close_notify ends the stream and an error destroys it. Returns 'more' when the reader wants more,
 * 'full' when push() asked us to wait, 'stop' when the stream is over.
 */
export function deliverRecord(stream: Readable, control: KernelControl, recordType: number, data: Uint8Array): 'more' | 'full' | 'stop' {
  const m = recordMeaning(recordType, data)
  if (m.kind === 'data') return stream.push(m.data) ? 'more' : 'full'
  if (m.kind === 'tickets') {
    control.tickets += m.count
    return 'more'
  }
  if (m.alert) control.alerts.push(m.alert)
  if (m.kind === 'error') stream.destroy(m.error)
  else stream.push(null) // close_notify
  return 'stop'
}

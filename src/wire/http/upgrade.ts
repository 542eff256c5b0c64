// Protocol upgrade detection (RFC 9110 §7.8): Connection lists "upgrade" and Upgrade names the
// protocol — e.g. a WebSocket opening handshake (RFC 6455 §4.1) or its 101 answer.

import { listElements, type HeaderLookup } from './fields.js'

/** `protocol` matches an Upgrade element by name ("websocket") or by name/version ("h2c/1"). */
export function isUpgrade(head: HeaderLookup, protocol: string): boolean {
  const connection = listElements(head.getAll('connection')).map((t) => t.toLowerCase())
  if (!connection.includes('upgrade')) return false
  const want = protocol.toLowerCase()
  return listElements(head.getAll('upgrade')).some((p) => {
    const e = p.toLowerCase()
    return e === want || (!want.includes('/') && e.startsWith(`${want}/`))
  })
}

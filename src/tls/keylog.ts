// Hooks a node:tls socket's secrets into the World's keylog sink (SSLKEYLOGFILE lines), so any
// capture of the connection — simulated tap or live tcpdump — can be decrypted by Wireshark.

import type { TLSSocket } from 'node:tls'
import type { World } from '../net/world.js'

/** Forwards every 'keylog' line of a client socket to world.keylog, if the world collects them. */
export function forwardKeylog(world: World, socket: TLSSocket): void {
  const sink = world.keylog
  if (!sink) return
  socket.on('keylog', (line: Buffer) => sink.call(world, line.toString('latin1')))
}

// A connected plain-TCP socket taken over the way handover.ts takes over a kTLS socket (Node's
// reading stopped, the fd dup()ed, Node's handle destroyed), wrapped in the plain or io_uring kernel
// socket. recvmsg/sendmsg and both data paths behave the same without the tls ULP, so this measures
// and tests the data paths on any Linux.

import type net from 'node:net'
import { KernelTlsSocket } from '../kernel-socket.js'
import type { KtlsAddon } from '../native.js'
import { openRing, UringTlsSocket } from '../uring-socket.js'

export function adoptTcp(addon: KtlsAddon, raw: net.Socket, io: 'plain' | 'uring', trace?: (line: string) => void): KernelTlsSocket | UringTlsSocket {
  const handle = (raw as unknown as { _handle: { fd: number; readStop(): number } })._handle
  raw.pause()
  handle.readStop()
  const own = addon.dup(handle.fd)
  if (own < 0) throw new Error(`dup: errno ${-own}`)
  raw.destroy()
  if (io === 'plain') return new KernelTlsSocket(addon, own, [], trace)
  const ring = openRing(addon, own)
  if (!ring.ok) {
    addon.close(own)
    throw new Error(`io_uring: ${ring.reason}`)
  }
  return new UringTlsSocket(addon, ring, own, [], trace)
}

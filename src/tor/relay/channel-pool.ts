// The relay's outbound channels, for EXTEND2: one channel per next relay (by RSA identity), opened
// with the client's own Channel (it checks the next relay's CERTS against the identities the
// EXTEND2 named) and reused by every circuit extended to that relay while it stands.

import type { World } from '../../net/world.js'
import { toHex } from '../../wire/bytes.js'
import { Channel, type ChannelTarget } from '../channel/channel.js'

export class ChannelPool {
  private readonly channels = new Map<string, Promise<Channel>>()
  private readonly open = new Set<Channel>()
  private stopped = false
  /** Channels opened so far. */
  opened = 0

  constructor(private readonly world: World) {}

  /** An open channel to `target` (reused when one to the same RSA identity stands). Rejects with a ChannelError. */
  get(target: ChannelTarget & { rsaId: Uint8Array }): Promise<Channel> {
    const key = toHex(target.rsaId)
    const existing = this.channels.get(key)
    if (existing) return existing
    const p = Channel.open(this.world, target).then((ch) => {
      if (this.stopped) {
        ch.close()
        return ch
      }
      this.opened++
      this.open.add(ch)
      ch.onClose(() => {
        this.open.delete(ch)
        if (this.channels.get(key) === p) this.channels.delete(key)
      })
      return ch
    })
    p.catch(() => {
      if (this.channels.get(key) === p) this.channels.delete(key)
    })
    this.channels.set(key, p)
    return p
  }

  get size(): number {
    return this.open.size
  }

  /** Closes every channel (their circuits learn through onChannelClosed). */
  closeAll(): void {
    this.stopped = true
    for (const ch of [...this.open]) ch.close()
    this.channels.clear()
  }
}

// Bridges (tor's "Bridge IP:PORT FINGERPRINT" lines, without a pluggable transport): an
// unpublished relay used as the first hop. We learn its onion key the way C tor does: a one-hop
// CREATE_FAST circuit to the bridge (authenticated by the channel's CERTS check against the
// fingerprint in the line) and BEGIN_DIR GET /tor/server/authority, its own server descriptor.

import type { World } from '../net/world.js'
import { WireError } from '../wire/bytes.js'
import { formatIpv6, parseIpv6 } from '../wire/ip/address.js'
import { Channel } from './channel/channel.js'
import { Circuit } from './circuit/circuit.js'
import type { RelayTarget } from './circuit/hop.js'
import { httpGet } from './dir/http-get.js'
import { base64Exact, hexExact, tokenize } from './dir/netdoc.js'
import { TorStream } from './stream/stream.js'

export interface BridgeLine {
  host: string
  port: number
  rsaId: Uint8Array
}

/**
 * "IPv4:PORT FINGERPRINT" or "[IPv6]:PORT FINGERPRINT". A line naming a pluggable transport is the
 * transport's business: whoever sets the transport up (sultry tor --bridge for webtunnel) hands us
 * the address part and a World whose connect() reaches the bridge through it.
 */
export function parseBridgeLine(line: string): BridgeLine {
  const words = line.trim().replace(/^Bridge\s+/i, '').split(/\s+/)
  const m = /^(?:(\d+\.\d+\.\d+\.\d+)|\[([0-9a-fA-F:.]+)\]):(\d{1,5})$/.exec(words[0] ?? '')
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) {
    const transport = /^[A-Za-z_][A-Za-z0-9_]*$/.test(words[0] ?? '') ? ` (a "${words[0]}" line needs its transport set up first)` : ''
    throw new WireError('bad-value', `bridge line: want IPv4:PORT or [IPv6]:PORT, then FINGERPRINT${transport}`)
  }
  const host = m[1] ?? formatIpv6(parseIpv6(m[2]))
  return { host, port: Number(m[3]), rsaId: hexExact(words[1], 20, 'bridge fingerprint') }
}

/** Keys from a server descriptor (dir-spec §2.1.1) that a client needs to extend through it. */
export function parseServerDescriptorKeys(text: string): { ntorOnionKey: Uint8Array; ed25519Id?: Uint8Array; nickname: string } {
  // Served descriptors may end with a blank line; the meta-format has no empty items.
  const items = tokenize(text.replace(/\n+$/, '\n'), 'server descriptor')
  const router = items.find((i) => i.keyword === 'router')
  const ntor = items.find((i) => i.keyword === 'ntor-onion-key')
  const ed = items.find((i) => i.keyword === 'master-key-ed25519')
  if (!router || !ntor) throw new WireError('bad-value', 'server descriptor without router or ntor-onion-key')
  return {
    nickname: router.args[0] ?? 'bridge',
    ntorOnionKey: base64Exact(ntor.args[0], 32, 'ntor-onion-key'),
    ed25519Id: ed ? base64Exact(ed.args[0], 32, 'master-key-ed25519') : undefined,
  }
}

/** Connects to the bridge, fetches its descriptor over a one-hop circuit, returns the relay facts. */
export async function learnBridge(world: World, line: BridgeLine): Promise<{ target: RelayTarget; channel: Channel }> {
  const channel = await Channel.open(world, { host: line.host, port: line.port, rsaId: line.rsaId })
  const circ = await Circuit.buildFast(world, channel, { host: line.host, port: line.port, rsaId: line.rsaId })
  try {
    const text = await httpGet(world, await TorStream.open(world, circ, 'dir'), '/tor/server/authority')
    const keys = parseServerDescriptorKeys(text)
    return { target: { host: line.host, port: line.port, rsaId: line.rsaId, ed25519Id: keys.ed25519Id ?? channel.peer.ed25519Id, ntorOnionKey: keys.ntorOnionKey, nickname: keys.nickname }, channel }
  } finally {
    circ.destroy()
  }
}

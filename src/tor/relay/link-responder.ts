// The responder's side of the v3+ link handshake (tor-spec §4, negotiating-channels.html) as a
// sans-IO state machine, the mirror of channel/handshake.ts. The initiator opens with VERSIONS
// (2-byte circuit ids); we answer VERSIONS, CERTS, AUTH_CHALLENGE and NETINFO in one flight, then
// wait for the initiator's NETINFO. Clients never authenticate; relays extending to us could, but
// an unauthenticated channel is all a relay needs to accept circuits on it, so CERTS and
// AUTHENTICATE from the initiator are read past without being checked (we never reuse an inbound
// channel for our own EXTENDs, which is the only thing their proof would enable).

import { WireError } from '../../wire/bytes.js'
import { ChanCmd, type ChannelCell } from '../../wire/tor/cell.js'
import { chanMsgCell, decodeChanMsg, NetinfoAddrType, type CertEntry, type ChanMsg, type NetinfoAddress } from '../../wire/tor/chan-msg.js'
import { LINK_VERSIONS } from '../channel/handshake.js'
import { ChannelError } from '../errors.js'

/** AUTH_CHALLENGE methods we offer: 1 (RSA-SHA256-TLSSecret), 3 (Ed25519-SHA256-RFC5705), as tor does. */
export const AUTH_METHODS: readonly number[] = [1, 3]
export const AUTH_CHALLENGE_LEN = 32

export interface ResponderFlight {
  /** CERTS entries proving our identity and binding the TLS certificate we presented. */
  certs: CertEntry[]
  /** 32 random bytes from the World. */
  challenge: Uint8Array
  /** Our clock, seconds since the epoch. */
  timeSeconds: number
  /** The initiator's address as we see it, and ours. */
  peerAddress: string | undefined
  myAddress: string
}

export type ResponderStep =
  | { kind: 'continue' }
  /** Send `versions` with a 2-byte circuit id, then `flight` with the negotiated version's. */
  | { kind: 'reply'; linkVersion: number; versions: ChannelCell; flight: ChannelCell[] }
  | { kind: 'open'; peerTime: number; peerSaysWeAre: NetinfoAddress; peerAddresses: NetinfoAddress[] }

/** A NETINFO address for an IPv4 dotted quad; anything else becomes 0.0.0.0 (tor's "unknown"). */
export function netinfoAddress(addr: string | undefined): NetinfoAddress {
  const m = addr ? /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addr) : null
  const octets = m ? m.slice(1, 5).map(Number) : [0, 0, 0, 0]
  if (octets.some((o) => o > 255)) return { type: NetinfoAddrType.IPV4, value: new Uint8Array(4) }
  return { type: NetinfoAddrType.IPV4, value: Uint8Array.from(octets) }
}

export class LinkResponder {
  private stage: 'versions' | 'netinfo' | 'open' = 'versions'
  linkVersion = 0

  constructor(private readonly flight: () => ResponderFlight) {}

  /** Feeds one cell from the initiator, in order. Throws ChannelError when the link must close. */
  onCell(cell: ChannelCell): ResponderStep {
    if (this.stage === 'open') throw new ChannelError('protocol', 'handshake already finished')
    if (cell.command === ChanCmd.VPADDING || cell.command === ChanCmd.PADDING) return { kind: 'continue' }
    let msg: ChanMsg
    try {
      msg = decodeChanMsg(cell.command, cell.body)
    } catch (e) {
      if (e instanceof WireError) throw new ChannelError('protocol', `malformed cell ${cell.command} during handshake: ${e.message}`)
      throw e
    }
    if (this.stage === 'versions') {
      if (msg.cmd !== 'VERSIONS') throw new ChannelError('versions', `expected VERSIONS, got ${msg.cmd}`)
      const common = msg.versions.filter((v) => LINK_VERSIONS.includes(v))
      if (common.length === 0) throw new ChannelError('versions', `no common link protocol (initiator offers ${msg.versions.join(',')})`)
      this.linkVersion = Math.max(...common)
      this.stage = 'netinfo'
      const f = this.flight()
      if (f.challenge.length !== AUTH_CHALLENGE_LEN) throw new RangeError('AUTH_CHALLENGE needs 32 bytes')
      return {
        kind: 'reply',
        linkVersion: this.linkVersion,
        versions: chanMsgCell(0, { cmd: 'VERSIONS', versions: [...LINK_VERSIONS] }),
        flight: [
          chanMsgCell(0, { cmd: 'CERTS', certs: f.certs }),
          chanMsgCell(0, { cmd: 'AUTH_CHALLENGE', challenge: f.challenge, methods: [...AUTH_METHODS] }),
          chanMsgCell(0, { cmd: 'NETINFO', timestamp: f.timeSeconds >>> 0, otherAddress: netinfoAddress(f.peerAddress), myAddresses: [netinfoAddress(f.myAddress)] }),
        ],
      }
    }
    switch (msg.cmd) {
      case 'NETINFO':
        this.stage = 'open'
        return { kind: 'open', peerTime: msg.timestamp, peerSaysWeAre: msg.otherAddress, peerAddresses: msg.myAddresses }
      case 'CERTS':
        return { kind: 'continue' } // an authenticating relay; see the header comment
      case 'opaque':
        if (msg.command === ChanCmd.AUTHENTICATE || msg.command === ChanCmd.AUTHORIZE) return { kind: 'continue' }
        throw new ChannelError('protocol', `unexpected command ${msg.command} before NETINFO`)
      default:
        throw new ChannelError('protocol', `expected NETINFO, got ${msg.cmd}`)
    }
  }
}

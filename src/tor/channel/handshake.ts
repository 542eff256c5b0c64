// The initiator's side of the v3+ link handshake (tor-spec §4, negotiating-channels.html) as a
// sans-IO state machine: fed the relay's cells in order, it answers with what to do next. We send
// VERSIONS (4, 5); the relay answers VERSIONS, CERTS, AUTH_CHALLENGE, NETINFO. We check CERTS,
// ignore AUTH_CHALLENGE (we do not authenticate), and once NETINFO arrives the link is open and we
// answer with our own NETINFO. Only VPADDING may be interleaved.

import { WireError } from '../../wire/bytes.js'
import { ChanCmd, type ChannelCell } from '../../wire/tor/cell.js'
import { decodeChanMsg, type ChanMsg, type NetinfoAddress } from '../../wire/tor/chan-msg.js'
import { ChannelError } from '../errors.js'
import { checkRelayCerts, type ExpectedIdentity, type RelayIdentity } from './certs-check.js'

/** Link protocols we speak: 4 and 5 (4-byte circuit ids; tor 0.4.9 requires Link=4). */
export const LINK_VERSIONS: readonly number[] = [4, 5]

export type HandshakeStep =
  | { kind: 'continue' }
  | { kind: 'version'; linkVersion: number }
  | { kind: 'open'; identity: RelayIdentity; peerTime: number; myAddressSeenByPeer: NetinfoAddress; peerAddresses: NetinfoAddress[] }

export class LinkHandshake {
  private stage: 'versions' | 'certs' | 'auth-or-netinfo' | 'open' = 'versions'
  private identity: RelayIdentity | undefined
  linkVersion = 0

  constructor(
    private readonly tlsCertDer: Uint8Array,
    private readonly nowMs: () => number,
    private readonly expected: ExpectedIdentity = {},
  ) {}

  onCell(cell: ChannelCell): HandshakeStep {
    if (this.stage === 'open') throw new ChannelError('protocol', 'handshake already finished')
    if (cell.command === ChanCmd.VPADDING) return { kind: 'continue' }
    let msg: ChanMsg
    try {
      msg = decodeChanMsg(cell.command, cell.body)
    } catch (e) {
      if (e instanceof WireError) throw new ChannelError('protocol', `malformed ${cell.command} cell during handshake: ${e.message}`)
      throw e
    }
    switch (this.stage) {
      case 'versions': {
        if (msg.cmd !== 'VERSIONS') throw new ChannelError('versions', `expected VERSIONS, got ${msg.cmd}`)
        const common = msg.versions.filter((v) => LINK_VERSIONS.includes(v))
        if (common.length === 0) throw new ChannelError('versions', `no common link protocol (relay offers ${msg.versions.join(',')})`)
        this.linkVersion = Math.max(...common)
        this.stage = 'certs'
        return { kind: 'version', linkVersion: this.linkVersion }
      }
      case 'certs': {
        if (msg.cmd !== 'CERTS') throw new ChannelError('protocol', `expected CERTS, got ${msg.cmd}`)
        this.identity = checkRelayCerts(msg.certs, this.tlsCertDer, this.nowMs(), this.expected)
        this.stage = 'auth-or-netinfo'
        return { kind: 'continue' }
      }
      case 'auth-or-netinfo': {
        if (msg.cmd === 'AUTH_CHALLENGE') return { kind: 'continue' } // only for initiators that authenticate
        if (msg.cmd !== 'NETINFO') throw new ChannelError('protocol', `expected AUTH_CHALLENGE or NETINFO, got ${msg.cmd}`)
        this.stage = 'open'
        return { kind: 'open', identity: this.identity!, peerTime: msg.timestamp, myAddressSeenByPeer: msg.otherAddress, peerAddresses: msg.myAddresses }
      }
    }
  }
}

import { describe, expect, it } from 'vitest'
import { WireError, fromHex, toHex } from '../bytes.js'
import { CELL_BODY_LEN, ChanCmd, decodeCell, encodeCell } from './cell.js'
import { decodeChanMsg, encodeChanMsg, type ChanMsg } from './chan-msg.js'
import { CERTS_BODY, CERT_TYPE4_BODY, CERT_TYPE5_BODY, CERT_TYPE7_BODY } from './vectors.test-data.js'

// Vectors: arti crates/tor-cell/tests/testvec_chanmsg.rs (bodies dumped from Tor 0.4.5.0-alpha-dev
// in a chutney network, except where arti marks them hand-generated).

const pad = (hex: string) => {
  const b = new Uint8Array(CELL_BODY_LEN)
  b.set(fromHex(hex))
  return b
}

/** Decodes the body, compares with `want`, and re-encodes byte-exact (padded for fixed cells). */
function check(command: number, hex: string, want: ChanMsg, fixed: boolean) {
  const body = fixed ? pad(hex) : fromHex(hex)
  const got = decodeChanMsg(command, body)
  expect(got).toEqual(want)
  const again = encodeChanMsg(got)
  expect(toHex(fixed ? pad(toHex(again)) : again)).toBe(toHex(body))
}

describe('channel messages (arti testvec_chanmsg.rs)', () => {
  it('VERSIONS 3,4,5', () => {
    check(ChanCmd.VERSIONS, '000300040005', { cmd: 'VERSIONS', versions: [3, 4, 5] }, false)
  })

  it('AUTH_CHALLENGE with methods 1 and 3', () => {
    check(
      ChanCmd.AUTH_CHALLENGE,
      '00DA5C085DEE4F3656710DA3B73652E48ACD5BAE608335FCA3FB6C4DEE104A51 0002 0001 0003',
      { cmd: 'AUTH_CHALLENGE', challenge: fromHex('00DA5C085DEE4F3656710DA3B73652E48ACD5BAE608335FCA3FB6C4DEE104A51'), methods: [1, 3] },
      false,
    )
  })

  it('CERTS with types 1, 2, 4, 5, 7', () => {
    const msg = decodeChanMsg(ChanCmd.CERTS, fromHex(CERTS_BODY))
    if (msg.cmd !== 'CERTS') throw new Error('not CERTS')
    expect(msg.certs.map((c) => [c.certType, c.body.length])).toEqual([[1, 574], [2, 445], [4, 140], [5, 104], [7, 165]])
    expect(toHex(msg.certs[2].body)).toBe(CERT_TYPE4_BODY.toLowerCase())
    expect(toHex(msg.certs[3].body)).toBe(CERT_TYPE5_BODY.toLowerCase())
    expect(toHex(msg.certs[4].body)).toBe(CERT_TYPE7_BODY.toLowerCase())
    expect(toHex(encodeChanMsg(msg))).toBe(CERTS_BODY.toLowerCase())
  })

  it('CREATE2 ntor onion skin', () => {
    const hs = '09164430E84D3BC56EC7E1D22734742345E2DECE0DE535B66B8E8A0EBBDAE3263C53E02EC2215685CD3A977DC7946FF47F84CD7025F75D252D1B35DEA28F32FA912513889A207E5049992DBC9BC541194C13624A'
    check(ChanCmd.CREATE2, `0002 0054 ${hs}`, { cmd: 'CREATE2', handshakeType: 2, handshakeData: fromHex(hs) }, true)
  })

  it('CREATED2 ntor reply', () => {
    const hs = '0108907A701030ADB6CA9C6AF097DC4855614655659B6A7BF21C1097DCE7C66EE0E4EF287DE7CED40BEECA8B90140C05DB6138AEB551CE0C037068C315E307A0'
    check(ChanCmd.CREATED2, `0040 ${hs}`, { cmd: 'CREATED2', handshakeData: fromHex(hs) }, true)
  })

  it('CREATE_FAST and CREATED_FAST', () => {
    const x = '0DC2A5EB921EF4B71F41184A99F4FAD99620A648'
    check(ChanCmd.CREATE_FAST, x, { cmd: 'CREATE_FAST', handshakeData: fromHex(x) }, true)
    const y = '03B74250B01D09FDA72B70D63AE7994926F13055BED23485F6B3C8C3CEAFE1DF48A9FF8BAC4993FC'
    check(ChanCmd.CREATED_FAST, y, { cmd: 'CREATED_FAST', handshakeData: fromHex(y) }, true)
  })

  it('DESTROY reasons', () => {
    check(ChanCmd.DESTROY, '04', { cmd: 'DESTROY', reason: 4 }, true)
    check(ChanCmd.DESTROY, '0000', { cmd: 'DESTROY', reason: 0 }, true)
  })

  it('NETINFO from a client, a relay, and an IPv6 relay', () => {
    const lo = { type: 4, value: fromHex('7F000001') }
    const lo6 = { type: 6, value: fromHex('00000000000000000000000000000001') }
    check(ChanCmd.NETINFO, '00000000 04 04 7F000001 00', { cmd: 'NETINFO', timestamp: 0, otherAddress: lo, myAddresses: [] }, true)
    check(ChanCmd.NETINFO, '5F6F80E1 04 04 7F000001 01 04 04 7F000001', { cmd: 'NETINFO', timestamp: 0x5f6f80e1, otherAddress: lo, myAddresses: [lo] }, true)
    check(
      ChanCmd.NETINFO,
      '5F6F859C 06 10 00000000000000000000000000000001 02 04 04 7F000001 06 10 00000000000000000000000000000001',
      { cmd: 'NETINFO', timestamp: 0x5f6f859c, otherAddress: lo6, myAddresses: [lo, lo6] },
      true,
    )
  })

  it('NETINFO keeps bogus addresses as sent (hand-made by arti) for the receiver to ignore', () => {
    const msg = decodeChanMsg(ChanCmd.NETINFO, pad('5F6F859C 06 09 000000000000000000 03 04 06 7F0000010000 BB 02 FFFF 06 10 00000000000000000000000000000001'))
    if (msg.cmd !== 'NETINFO') throw new Error('not NETINFO')
    expect(msg.otherAddress.value.length).toBe(9)
    expect(msg.myAddresses.map((a) => [a.type, a.value.length])).toEqual([[4, 6], [0xbb, 2], [6, 16]])
  })

  it('PADDING, VPADDING, RELAY, RELAY_EARLY and opaque commands', () => {
    check(ChanCmd.PADDING, '', { cmd: 'PADDING' }, true)
    check(ChanCmd.VPADDING, '', { cmd: 'VPADDING', body: new Uint8Array(0) }, false)
    check(ChanCmd.VPADDING, '00000000000000000000', { cmd: 'VPADDING', body: new Uint8Array(10) }, false)
    const relayHex = '6e6f742076616c6964617465642061742074686973207374616765' // "not validated at this stage"
    check(ChanCmd.RELAY, relayHex, { cmd: 'RELAY', body: pad(relayHex) }, true)
    check(ChanCmd.RELAY_EARLY, relayHex, { cmd: 'RELAY_EARLY', body: pad(relayHex) }, true)
    // "better guarded than a dragon's den" on unassigned variable command 244.
    const v = '6265747465722067756172646564207468616e206120647261676f6e27732064656e'
    check(244, v, { cmd: 'opaque', command: 244, body: fromHex(v) }, false)
  })

  it('PADDING_NEGOTIATE start/stop and the unknown-version error', () => {
    check(ChanCmd.PADDING_NEGOTIATE, '00 02 0100 0200', { cmd: 'PADDING_NEGOTIATE', version: 0, command: 2, itoLowMs: 256, itoHighMs: 512 }, true)
    check(ChanCmd.PADDING_NEGOTIATE, '00 01 0000 0000', { cmd: 'PADDING_NEGOTIATE', version: 0, command: 1, itoLowMs: 0, itoHighMs: 0 }, true)
    expect(() => decodeChanMsg(ChanCmd.PADDING_NEGOTIATE, pad('90 0303'))).toThrow(WireError)
  })

  it('rejects malformed bodies with a typed error', () => {
    const code = (f: () => unknown) => {
      try {
        f()
      } catch (e) {
        if (e instanceof WireError) return e.code
        throw e
      }
      return 'ok'
    }
    expect(code(() => decodeChanMsg(ChanCmd.VERSIONS, fromHex('00030004 00')))).toBe('bad-length')
    expect(code(() => decodeChanMsg(ChanCmd.CERTS, fromHex('01 04 0010 00')))).toBe('bad-length')
    expect(code(() => decodeChanMsg(ChanCmd.CERTS, fromHex('00 00')))).toBe('trailing')
    expect(code(() => decodeChanMsg(ChanCmd.CREATE2, pad(`0002 01FA`)))).toBe('bad-length')
    expect(code(() => decodeChanMsg(ChanCmd.RELAY, new Uint8Array(508)))).toBe('bad-length')
  })
})

describe('channel cell framing', () => {
  it('a VERSIONS cell with a 2-byte CircID, as every channel opens (tor-spec §4.1)', () => {
    const cell = encodeCell({ circId: 0, command: ChanCmd.VERSIONS, body: fromHex('00040005') }, 2)
    expect(toHex(cell)).toBe('0000' + '07' + '0004' + '00040005')
    expect(decodeCell(cell, 2)).toEqual({ cell: { circId: 0, command: 7, body: fromHex('00040005') }, used: 9 })
  })

  it('fixed cells are 514 bytes on link 4+ and 512 before (tor-spec §3)', () => {
    const msg: ChanMsg = { cmd: 'DESTROY', reason: 3 }
    const v4 = encodeCell({ circId: 0x80000001, command: ChanCmd.DESTROY, body: encodeChanMsg(msg) }, 4)
    const v3 = encodeCell({ circId: 0x8001, command: ChanCmd.DESTROY, body: encodeChanMsg(msg) }, 2)
    expect([v4.length, v3.length]).toEqual([514, 512])
    expect(toHex(v4.subarray(0, 6))).toBe('800000010403')
    expect(decodeCell(v4, 4).cell.circId).toBe(0x80000001)
  })

  it('reports how many bytes a short cell still needs', () => {
    try {
      decodeCell(fromHex('80000001 03 0000'), 4)
      throw new Error('no error')
    } catch (e) {
      expect(e).toBeInstanceOf(WireError)
      expect((e as WireError).needed).toBe(507)
    }
  })
})

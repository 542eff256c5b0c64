// Properties of the Tor channel-message codec (src/wire/tor/chan-msg.ts) carried in channel cells
// (src/wire/tor/cell.ts): every message round-trips through a cell on link versions 3-5, and
// random or mutated bodies give only WireError.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CELL_BODY_LEN, ChanCmd, decodeCell, encodeCell, isVariableLength } from '../src/wire/tor/cell.js'
import { chanMsgCell, decodeChanMsg, encodeChanMsg, type ChanMsg } from '../src/wire/tor/chan-msg.js'
import { mutate, mutation, onlyWireError } from './support.js'

const RUNS = process.env.SULTRY_QUICK === '1' ? 300 : 10_000

const u8 = fc.integer({ min: 0, max: 0xff })
const u16 = fc.integer({ min: 0, max: 0xffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const bytes = (maxLength: number, minLength = 0) => fc.uint8Array({ minLength, maxLength, size: 'max' })
const exact = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })

const KNOWN = new Set<number>(Object.values(ChanCmd))
const opaqueCommand = u8.filter((c) => !KNOWN.has(c) || c === ChanCmd.CREATE || c === ChanCmd.CREATED || c === ChanCmd.AUTHENTICATE || c === ChanCmd.AUTHORIZE)

const netinfoAddress = fc.record({ type: u8, value: bytes(16) })

const chanMsgArb: fc.Arbitrary<ChanMsg> = fc.oneof(
  fc.constant<ChanMsg>({ cmd: 'PADDING' }),
  fc.record({ cmd: fc.constant('VPADDING' as const), body: bytes(1024) }),
  fc.record({ cmd: fc.constant('VERSIONS' as const), versions: fc.array(u16, { maxLength: 64, size: 'max' }) }),
  fc.record({
    cmd: fc.constant('NETINFO' as const),
    timestamp: u32,
    otherAddress: netinfoAddress,
    myAddresses: fc.array(netinfoAddress, { maxLength: 8, size: 'max' }),
  }),
  fc.record({ cmd: fc.constant('CERTS' as const), certs: fc.array(fc.record({ certType: u8, body: bytes(700) }), { maxLength: 7, size: 'max' }) }),
  fc.record({ cmd: fc.constant('AUTH_CHALLENGE' as const), challenge: exact(32), methods: fc.array(u16, { maxLength: 16, size: 'max' }) }),
  fc.record({ cmd: fc.constant('CREATE2' as const), handshakeType: u16, handshakeData: bytes(CELL_BODY_LEN - 4) }),
  fc.record({ cmd: fc.constant('CREATED2' as const), handshakeData: bytes(CELL_BODY_LEN - 2) }),
  fc.record({ cmd: fc.constant('CREATE_FAST' as const), handshakeData: exact(20) }),
  fc.record({ cmd: fc.constant('CREATED_FAST' as const), handshakeData: exact(40) }),
  fc.record({ cmd: fc.constant('DESTROY' as const), reason: u8 }),
  fc.record({ cmd: fc.constantFrom('RELAY' as const, 'RELAY_EARLY' as const), body: exact(CELL_BODY_LEN) }),
  fc.record({ cmd: fc.constant('PADDING_NEGOTIATE' as const), version: fc.constant(0 as const), command: u8, itoLowMs: u16, itoHighMs: u16 }),
  opaqueCommand.chain((command) =>
    fc.record({ cmd: fc.constant('opaque' as const), command: fc.constant(command), body: isVariableLength(command) ? bytes(1024) : exact(CELL_BODY_LEN) }),
  ),
)

describe('Tor channel messages', () => {
  it('round-trip through a channel cell on every link version', () => {
    fc.assert(
      fc.property(chanMsgArb, u32, fc.constantFrom(3, 4, 5), (msg, circId32, link) => {
        const circIdLen = link >= 4 ? 4 : 2
        const circId = circIdLen === 2 ? circId32 & 0xffff : circId32
        const wire = encodeCell(chanMsgCell(circId, msg), circIdLen)
        const { cell, used } = decodeCell(wire, circIdLen)
        expect(used).toBe(wire.length)
        expect(cell.circId).toBe(circId)
        if (!isVariableLength(cell.command)) expect(cell.body.length).toBe(CELL_BODY_LEN)
        expect(decodeChanMsg(cell.command, cell.body)).toEqual(msg)
      }),
      { numRuns: RUNS },
    )
  })

  it('random bodies for any command give a message or a WireError, nothing else', () => {
    fc.assert(
      fc.property(u8, fc.oneof(bytes(1100), exact(CELL_BODY_LEN)), (command, body) => {
        onlyWireError(() => {
          const msg = decodeChanMsg(command, body)
          encodeChanMsg(msg)
        })
      }),
      { numRuns: RUNS },
    )
  })

  it('mutated valid bodies give a message or a WireError, nothing else', () => {
    fc.assert(
      fc.property(chanMsgArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (msg, ms) => {
        const cell = chanMsgCell(0, msg)
        const body = isVariableLength(cell.command) ? cell.body : encodeCell(cell, 4).subarray(5)
        onlyWireError(() => decodeChanMsg(cell.command, mutate(body, ms)))
      }),
      { numRuns: RUNS },
    )
  })

  it('random and mutated cell streams give a cell or a WireError, nothing else', () => {
    fc.assert(
      fc.property(chanMsgArb, fc.array(mutation, { maxLength: 4 }), fc.constantFrom(2 as const, 4 as const), (msg, ms, circIdLen) => {
        const wire = mutate(encodeCell(chanMsgCell(1, msg), circIdLen), ms)
        onlyWireError(() => decodeCell(wire, circIdLen))
      }),
      { numRuns: RUNS },
    )
  })
})

// Properties of the tor1 relay cell header (src/wire/tor/relay-cell.ts) and relay messages
// (src/wire/tor/relay-msg.ts): round trip of every message through a relay cell, and only
// WireError from random or mutated input.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { toHex } from '../src/wire/bytes.js'
import { CELL_BODY_LEN } from '../src/wire/tor/cell.js'
import { RELAY_DATA_MAX, decodeRelayCell, encodeRelayCell, type RelayCell } from '../src/wire/tor/relay-cell.js'
import { RelayCmd, decodeRelayMsg, encodeRelayMsg, relayMsgCommand, type LinkSpecifier, type RelayMsg } from '../src/wire/tor/relay-msg.js'
import { mutate, mutation, onlyWireError } from './support.js'

const RUNS = process.env.SULTRY_QUICK === '1' ? 300 : 10_000

const u8 = fc.integer({ min: 0, max: 0xff })
const u16 = fc.integer({ min: 0, max: 0xffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const bytes = (maxLength: number) => fc.uint8Array({ maxLength, size: 'max' })
const exact = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })

const KNOWN = new Set<number>(Object.values(RelayCmd).filter((c) => c !== RelayCmd.EXTEND && c !== RelayCmd.EXTENDED))

const linkSpecifier: fc.Arbitrary<LinkSpecifier> = fc.oneof(
  fc.record({ lstype: fc.constant(0 as const), address: exact(4), port: u16 }),
  fc.record({ lstype: fc.constant(1 as const), address: exact(16), port: u16 }),
  fc.record({ lstype: fc.constant(2 as const), rsaId: exact(20) }),
  fc.record({ lstype: fc.constant(3 as const), ed25519Id: exact(32) }),
  fc.record({ lstype: fc.constant('unrecognized' as const), type: fc.integer({ min: 4, max: 0xff }), lspec: bytes(32) }),
)

const resolvedAnswer = fc.oneof(
  fc.record({ type: fc.constant(4), value: exact(4), ttl: u32 }),
  fc.record({ type: fc.constant(6), value: exact(16), ttl: u32 }),
  fc.record({ type: u8.filter((t) => t !== 4 && t !== 6), value: bytes(40), ttl: u32 }),
)

const hostname = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6())

const relayMsgArb: fc.Arbitrary<RelayMsg> = fc.oneof(
  fc.record({ cmd: fc.constant('BEGIN' as const), address: hostname, port: u16, flags: u32 }),
  fc.record({ cmd: fc.constant('DATA' as const), data: bytes(RELAY_DATA_MAX) }),
  fc.record({ cmd: fc.constant('END' as const), reason: u8.filter((r) => r !== 4) }),
  fc.constant<RelayMsg>({ cmd: 'END', reason: 4 }),
  fc.record({ cmd: fc.constant('END' as const), reason: fc.constant(4), address: fc.oneof(exact(4), exact(16)), ttl: u32 }),
  fc.constant<RelayMsg>({ cmd: 'CONNECTED' }),
  fc.record({ cmd: fc.constant('CONNECTED' as const), address: exact(4).filter((a) => a.some((b) => b !== 0)), ttl: u32 }),
  fc.record({ cmd: fc.constant('CONNECTED' as const), address: exact(16), ttl: u32 }),
  fc.constant<RelayMsg>({ cmd: 'SENDME', version: 0 }),
  fc.record({ cmd: fc.constant('SENDME' as const), version: fc.constant(1 as const), digest: exact(20) }),
  fc.record({
    cmd: fc.constant('EXTEND2' as const),
    linkSpecifiers: fc.array(linkSpecifier, { maxLength: 4, size: 'max' }),
    handshakeType: u16,
    handshakeData: bytes(350),
  }),
  fc.record({ cmd: fc.constant('EXTENDED2' as const), handshakeData: bytes(RELAY_DATA_MAX - 2) }),
  fc.constant<RelayMsg>({ cmd: 'TRUNCATE' }),
  fc.record({ cmd: fc.constant('TRUNCATED' as const), reason: u8 }),
  fc.record({ cmd: fc.constant('RESOLVE' as const), hostname: fc.domain() }),
  fc.record({ cmd: fc.constant('RESOLVED' as const), answers: fc.array(resolvedAnswer, { maxLength: 8, size: 'max' }) }),
  fc.constant<RelayMsg>({ cmd: 'BEGIN_DIR' }),
  fc.constant<RelayMsg>({ cmd: 'DROP' }),
  fc.record({ cmd: fc.constant('unrecognized' as const), relayCommand: u8.filter((c) => !KNOWN.has(c)), body: bytes(RELAY_DATA_MAX) }),
)

const relayCellArb: fc.Arbitrary<RelayCell> = fc.record({
  relayCommand: u8,
  recognized: u16,
  streamId: u16,
  digest: exact(4),
  data: bytes(RELAY_DATA_MAX),
})

describe('tor1 relay cell header', () => {
  it('round-trips with any padding', () => {
    fc.assert(
      fc.property(relayCellArb, exact(CELL_BODY_LEN), (cell, padding) => {
        const body = encodeRelayCell(cell, padding)
        expect(body.length).toBe(CELL_BODY_LEN)
        const got = decodeRelayCell(body)
        expect([got.relayCommand, got.recognized, got.streamId, toHex(got.digest), toHex(got.data)]).toEqual([
          cell.relayCommand,
          cell.recognized,
          cell.streamId,
          toHex(cell.digest),
          toHex(cell.data),
        ])
      }),
      { numRuns: RUNS },
    )
  })

  it('random bodies of any length give a cell or a WireError', () => {
    fc.assert(
      fc.property(fc.oneof(exact(CELL_BODY_LEN), bytes(600)), (b) => onlyWireError(() => decodeRelayCell(b))),
      { numRuns: RUNS },
    )
  })
})

describe('relay messages', () => {
  it('round-trip through a relay cell', () => {
    fc.assert(
      fc.property(relayMsgArb, u16, (msg, streamId) => {
        const data = encodeRelayMsg(msg)
        const body = encodeRelayCell({ relayCommand: relayMsgCommand(msg), recognized: 0, streamId, digest: new Uint8Array(4), data })
        const cell = decodeRelayCell(body)
        const got = decodeRelayMsg(cell.relayCommand, cell.data)
        expect(got).toEqual(msg)
        expect(toHex(encodeRelayMsg(got))).toBe(toHex(data))
      }),
      { numRuns: RUNS },
    )
  })

  it('random bodies for any relay command give a message or a WireError, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 20 }), u8), bytes(600), (command, body) =>
        onlyWireError(() => encodeRelayMsg(decodeRelayMsg(command, body))),
      ),
      { numRuns: RUNS },
    )
  })

  it('mutated valid bodies give a message or a WireError, nothing else', () => {
    fc.assert(
      fc.property(relayMsgArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (msg, ms) =>
        onlyWireError(() => decodeRelayMsg(relayMsgCommand(msg), mutate(encodeRelayMsg(msg), ms))),
      ),
      { numRuns: RUNS },
    )
  })
})

import { describe, expect, it } from 'vitest'
import { concatBytes, fromHex } from '../bytes.js'
import { CellReader, ChanCmd, MAX_HELD_BEFORE_VERSION, encodeCell } from './cell.js'

describe('CellReader', () => {
  const versions = encodeCell({ circId: 0, command: ChanCmd.VERSIONS, body: fromHex('00040005') }, 2)
  const certs = encodeCell({ circId: 0, command: ChanCmd.CERTS, body: fromHex('00') }, 4)
  const netinfo = encodeCell({ circId: 0, command: ChanCmd.NETINFO, body: fromHex('00000000 04 04 7F000001 00') }, 4)

  it('holds cells behind VERSIONS until the link version is known, then frames them with 4-byte CircIDs', () => {
    const reader = new CellReader()
    const first = reader.receive(concatBytes(versions, certs, netinfo))
    expect(first.map((e) => (e.kind === 'cell' ? e.cell.command : e.kind))).toEqual([ChanCmd.VERSIONS])
    const rest = reader.setLinkVersion(5)
    expect(rest.map((e) => (e.kind === 'cell' ? [e.cell.command, e.cell.body.length] : e.kind))).toEqual([
      [ChanCmd.CERTS, 1],
      [ChanCmd.NETINFO, 509],
    ])
  })

  it('uses 2-byte CircIDs throughout on link protocol 3', () => {
    const reader = new CellReader()
    reader.receive(versions)
    reader.setLinkVersion(3)
    const padding = encodeCell({ circId: 7, command: ChanCmd.PADDING, body: new Uint8Array(0) }, 2)
    const events = reader.receive(padding)
    expect(events).toHaveLength(1)
    expect(events[0].kind === 'cell' && events[0].cell.circId).toBe(7)
  })

  it('refuses a channel that does not open with VERSIONS', () => {
    const reader = new CellReader()
    const events = reader.receive(encodeCell({ circId: 0, command: ChanCmd.CERTS, body: new Uint8Array(0) }, 2))
    expect(events.map((e) => e.kind)).toEqual(['error'])
    expect(reader.receive(versions).map((e) => e.kind)).toEqual(['error'])
  })

  it('stops holding bytes after VERSIONS past a bound when no link version is set', () => {
    const reader = new CellReader()
    expect(reader.receive(versions).map((e) => e.kind)).toEqual(['cell'])
    expect(reader.receive(new Uint8Array(MAX_HELD_BEFORE_VERSION)).map((e) => e.kind)).toEqual([])
    const events = reader.receive(new Uint8Array(1))
    expect(events.map((e) => e.kind === 'error' && e.error.code)).toEqual(['too-large'])
  })

  it("hands out bodies it owns: a caller's reused Buffer and a neighbour's in-place edits do not reach them", () => {
    const reader = new CellReader()
    reader.receive(versions)
    reader.setLinkVersion(5)
    const a = encodeCell({ circId: 1, command: ChanCmd.RELAY, body: new Uint8Array(509).fill(0xaa) }, 4)
    const b = encodeCell({ circId: 2, command: ChanCmd.RELAY, body: new Uint8Array(509).fill(0xbb) }, 4)
    const chunk = Buffer.from(concatBytes(a, b.subarray(0, 100))) // a Buffer, as a socket gives
    const first = reader.receive(chunk)
    chunk.fill(0) // the socket layer may reuse its buffer
    const second = reader.receive(Buffer.from(b.subarray(100)))
    const cells = [...first, ...second].map((e) => (e.kind === 'cell' ? e.cell : undefined))
    expect(cells.map((c) => c?.circId)).toEqual([1, 2])
    cells[0]!.body.fill(0x11) // a circuit decrypting in place
    expect(cells[1]!.body.every((x) => x === 0xbb)).toBe(true)
    expect(cells[0]!.body.length).toBe(509)
    const third = reader.receive(a)
    expect(third.length === 1 && third[0].kind === 'cell' && third[0].cell.body.every((x) => x === 0xaa)).toBe(true)
  })
})

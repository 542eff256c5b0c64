// TorStream's receive side against a stand-in circuit that records what the stream sends: DATA of
// cells that arrive together reaches the reader as one chunk, in order and before END; stream
// SENDMEs go only once the reader has the data, one per 50 cells; a stream that fails with data
// still held emits none of it.

import { describe, expect, it } from 'vitest'
import type { Circuit } from '../circuit/circuit.js'
import { CircuitError } from '../errors.js'
import type { RelayMsg } from '../../wire/tor/relay-msg.js'
import { TorStream } from './stream.js'

function standIn(opts: { channelGone?: () => boolean } = {}) {
  const sent: Array<{ msg: RelayMsg; streamId: number }> = []
  const circuit = {
    closed: false,
    addStream: () => 7,
    removeStream: () => {},
    sendRelay: (msg: RelayMsg, streamId: number) => {
      // As Circuit.sendRelay does when its channel's send throws: close, fail the streams, rethrow.
      if (opts.channelGone?.()) {
        circuit.closed = true
        const e = new CircuitError('channel', 'channel closed')
        stream.onCircuitClosed(e)
        throw e
      }
      sent.push({ msg, streamId })
      return new Uint8Array(20)
    },
    destroy: () => {
      circuit.closed = true
    },
  }
  const stream = new TorStream(circuit as unknown as Circuit)
  stream.onMessage({ cmd: 'CONNECTED' })
  const sendmes = () => sent.filter((s) => s.msg.cmd === 'SENDME' && s.streamId === 7).length
  return { stream, sent, sendmes }
}

const cell = (n: number) => new Uint8Array(498).fill(n & 0xff)
const tick = () => new Promise((r) => setImmediate(r))

describe('TorStream receive', () => {
  it('pushes the DATA of cells that arrive together as one chunk, in order, and END after it', async () => {
    const { stream } = standIn()
    const chunks: Buffer[] = []
    let ended = false
    stream.on('data', (d: Buffer) => {
      expect(ended).toBe(false)
      chunks.push(d)
    })
    stream.on('end', () => (ended = true))
    await tick()
    for (let i = 0; i < 8; i++) stream.onMessage({ cmd: 'DATA', data: cell(i) })
    await tick()
    expect(chunks.map((c) => c.length)).toEqual([8 * 498])
    for (let i = 0; i < 3; i++) stream.onMessage({ cmd: 'DATA', data: cell(100 + i) })
    stream.onMessage({ cmd: 'END', reason: 6 })
    await tick()
    expect(chunks.map((c) => c.length)).toEqual([8 * 498, 3 * 498])
    expect(ended).toBe(true)
    const all = Buffer.concat(chunks)
    for (let i = 0; i < 8; i++) expect(all[i * 498]).toBe(i)
    for (let i = 0; i < 3; i++) expect(all[(8 + i) * 498 + 497]).toBe(100 + i)
  })

  it('sends a stream SENDME per 50 cells once the reader has them, not before', async () => {
    const { stream, sendmes } = standIn()
    let got = 0
    stream.on('data', (d: Buffer) => (got += d.length))
    await tick()
    for (let i = 0; i < 30; i++) stream.onMessage({ cmd: 'DATA', data: cell(i) })
    for (let i = 0; i < 30; i++) stream.onMessage({ cmd: 'DATA', data: cell(i) })
    expect(sendmes()).toBe(0) // held: the reader has nothing yet
    await tick()
    expect(got).toBe(60 * 498)
    expect(sendmes()).toBe(1)
    for (let i = 0; i < 40; i++) stream.onMessage({ cmd: 'DATA', data: cell(i) })
    await tick()
    expect(sendmes()).toBe(2)
  })

  it('a reader that does not read gets no SENDME until it does', async () => {
    const { stream, sendmes } = standIn()
    await tick()
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 40; i++) stream.onMessage({ cmd: 'DATA', data: cell(i) })
      await tick()
    }
    expect(sendmes()).toBe(0) // 160 cells sit in the readable buffer past its high-water mark
    let got = 0
    stream.on('data', (d: Buffer) => (got += d.length))
    await tick()
    await tick()
    expect(got).toBe(160 * 498)
    expect(sendmes()).toBe(3)
  })

  it('drops held DATA when the circuit closes before the push', async () => {
    const { stream } = standIn()
    const chunks: Buffer[] = []
    stream.on('data', (d: Buffer) => chunks.push(d))
    stream.on('error', () => {})
    await tick()
    stream.onMessage({ cmd: 'DATA', data: cell(1) })
    stream.onCircuitClosed(new CircuitError('channel', 'gone'))
    await tick()
    expect(chunks).toEqual([])
    expect(stream.destroyed).toBe(true)
  })

  it('a SENDME that finds the channel gone after the push fails the stream, not the process', async () => {
    let gone = false
    const { stream } = standIn({ channelGone: () => gone })
    const errors: Error[] = []
    let got = 0
    stream.on('data', (d: Buffer) => (got += d.length))
    stream.on('error', (e) => errors.push(e))
    await tick()
    for (let i = 0; i < 60; i++) stream.onMessage({ cmd: 'DATA', data: cell(i) })
    gone = true
    await tick()
    await tick()
    expect(got).toBe(60 * 498)
    expect(stream.destroyed).toBe(true)
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('channel closed')])
  })
})

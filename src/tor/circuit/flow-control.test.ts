// Window accounting (tor-spec §7.3, §7.4): numbers from the spec, digests FIFO-checked.

import { describe, expect, it } from 'vitest'
import { CircuitWindows, FlowControlError, StreamWindows } from './flow-control.js'

const digestOf = (n: number) => {
  const d = new Uint8Array(20)
  new DataView(d.buffer).setUint32(0, n)
  return d
}

describe('CircuitWindows', () => {
  it('remembers the digests of DATA cells 100, 200, … and accepts SENDME v1 only with them, in order', () => {
    const w = new CircuitWindows()
    for (let i = 1; i <= 1000; i++) w.onDataSent(digestOf(i))
    expect(w.canPackage()).toBe(false)
    expect(() => w.onDataSent(digestOf(1001))).toThrow(FlowControlError)
    expect(() => w.onSendme(1, digestOf(200))).toThrow(FlowControlError) // out of order: 100 is first
    const w2 = new CircuitWindows()
    for (let i = 1; i <= 1000; i++) w2.onDataSent(digestOf(i))
    w2.onSendme(1, digestOf(100))
    expect(w2.packageWindow).toBe(100)
    w2.onSendme(1, digestOf(200))
    expect(w2.packageWindow).toBe(200)
  })

  it('refuses a SENDME with nothing to acknowledge', () => {
    const w = new CircuitWindows()
    for (let i = 1; i <= 99; i++) w.onDataSent(digestOf(i))
    expect(() => w.onSendme(1, digestOf(99))).toThrow(FlowControlError)
  })

  it('asks for a SENDME v1 every 100 DATA cells with that cell’s digest, and fails on overrun', () => {
    const w = new CircuitWindows()
    const due: number[] = []
    for (let i = 1; i <= 1000; i++) {
      const d = w.onDataReceived(digestOf(i))
      if (d) due.push(new DataView(d.buffer).getUint32(0))
    }
    expect(due).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000])
    const greedy = new CircuitWindows()
    // A peer that ignores our SENDMEs can still only send 1000 cells: simulate by not counting them.
    greedy.deliverWindow = 0
    expect(() => greedy.onDataReceived(digestOf(1))).toThrow(FlowControlError)
  })
})

describe('StreamWindows', () => {
  it('500/50 windows both ways', () => {
    const w = new StreamWindows()
    for (let i = 0; i < 500; i++) w.onDataSent()
    expect(w.canPackage()).toBe(false)
    expect(() => w.onDataSent()).toThrow(FlowControlError)
    w.onSendme()
    expect(w.packageWindow).toBe(50)
    for (let i = 0; i < 49; i++) w.onDataReceived()
    expect(w.sendmeDue()).toBe(false)
    w.onDataReceived()
    expect(w.sendmeDue()).toBe(true)
    w.onSendmeSent()
    expect(w.deliverWindow).toBe(500)
    for (let i = 0; i < 500; i++) w.onDataReceived()
    expect(() => w.onDataReceived()).toThrow(FlowControlError)
  })

  it('a SENDME that would open the window past 500 is a violation', () => {
    expect(() => new StreamWindows().onSendme()).toThrow(FlowControlError)
  })
})

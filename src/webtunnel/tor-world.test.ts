import { describe, expect, it } from 'vitest'
import type { World } from '../net/world.js'
import { parseBridgeLine } from './bridge-line.js'
import { webTunnelWorld } from './tor-world.js'

describe('webTunnelWorld', () => {
  const dialled: string[] = []
  const base: World = {
    now: () => 0,
    setTimer: () => ({ cancel() {} }),
    random: (n) => new Uint8Array(n),
    trace: () => {},
    net: {
      connect: (h, p) => {
        dialled.push(`${h}:${p}`)
        return Promise.reject(new Error('test world: no network'))
      },
      listen: () => Promise.reject(new Error('unused')),
    },
  }
  const line = parseBridgeLine('webtunnel [2001:db8:bce5:252f:cb34:2be1:d5a3:9c16]:443 0123456789ABCDEF0123456789ABCDEF01234567 url=https://front.example:8443/p')

  it('dials the url host for the bridge address (however it is written), never the placeholder', async () => {
    const w = webTunnelWorld(base, line)
    await expect(w.net.connect('2001:0db8:bce5:252f:cb34:2be1:d5a3:9c16', 443)).rejects.toThrow('test world')
    expect(dialled).toEqual(['front.example:8443'])
  })

  it('refuses other placeholder addresses and passes everything else through', async () => {
    dialled.length = 0
    const w = webTunnelWorld(base, line)
    await expect(w.net.connect('2001:db8::1', 443)).rejects.toMatchObject({ code: 'EHOSTUNREACH' })
    await expect(w.net.connect('127.0.0.1', 9001)).rejects.toThrow('test world')
    expect(dialled).toEqual(['127.0.0.1:9001'])
  })
})

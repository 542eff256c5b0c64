// The WebTunnel server engine (src/webtunnel/server.ts serveWebTunnel) fed generated and mutated
// byte streams, chunked at random points, over an in-memory connection: it never throws, answers
// every non-upgrade with an ordinary page, and connects to the bridge only when the request is
// a valid upgrade (judged by a separate textual oracle), and answers anything else with a page.

import { Duplex } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Conn, World } from '../src/net/world.js'
import { serveWebTunnel } from '../src/webtunnel/server.js'
import { encodeUpgradeRequest, UPGRADE_RESPONSE } from '../src/webtunnel/upgrade.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000
const PATH = '/p'

function fakeWorld(onConnect: () => void): World {
  return {
    now: () => Date.UTC(2026, 10, 22),
    setTimer: () => ({ cancel() {} }),
    random: (n) => new Uint8Array(n),
    trace: () => {},
    net: {
      connect: () => {
        onConnect()
        return Promise.reject(new Error('no bridge in this test'))
      },
      listen: () => Promise.reject(new Error('unused')),
    },
  }
}

function fakeConn(): { conn: Conn; written: Buffer[] } {
  const written: Buffer[] = []
  const conn = new Duplex({
    read() {},
    write(chunk: Buffer, _e, cb) {
      written.push(Buffer.from(chunk))
      cb()
    },
  }) as Conn
  return { conn, written }
}

/** The upgrade as the oracle sees it: request line and the two fields, read as plain text. */
function oracleUpgrade(raw: string): boolean {
  const end = raw.indexOf('\r\n\r\n')
  if (end < 0) return false
  const lines = raw.slice(0, end).split('\r\n')
  const m = /^GET (\/[^ ?]*)(\?[^ ]*)? HTTP\/1\.1$/.exec(lines[0])
  if (!m || m[1] !== PATH) return false
  const field = (n: string) => lines.slice(1).filter((l) => l.toLowerCase().startsWith(`${n}:`)).flatMap((l) => l.slice(n.length + 1).split(',')).map((v) => v.trim().toLowerCase())
  return field('connection').includes('upgrade') && field('upgrade').some((u) => u === 'websocket' || u.startsWith('websocket/'))
}

const valid = encodeUpgradeRequest({ host: 'front.example', path: PATH })
const input = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()), { maxLength: 4 }), fc.uint8Array({ maxLength: 30 })).map(([muts, tail]) => {
    const a = Array.from(valid)
    for (const [at, v, del] of muts) {
      const i = at % a.length
      if (del) a.splice(i, 1)
      else a[i] = v
    }
    return Uint8Array.from([...a, ...tail])
  }),
)

describe('WebTunnel server engine (properties)', () => {
  it('never throws; connects to the bridge only after a valid upgrade (and then after the official 101)', async () => {
    let upgrades = 0
    await fc.assert(
      fc.asyncProperty(input, fc.array(fc.nat(), { maxLength: 5 }), async (bytes, cuts) => {
        let connects = 0
        const { conn, written } = fakeConn()
        const outcome = serveWebTunnel(fakeWorld(() => connects++), conn, { bridge: { host: '127.0.0.1', port: 9 }, path: PATH })
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
        let at = 0
        for (const p of [...points, bytes.length]) {
          if (p > at) conn.push(Buffer.from(bytes.subarray(at, p)))
          at = p
        }
        conn.push(null)
        const o = await outcome
        await new Promise((r) => setImmediate(r))
        const raw = Buffer.from(bytes).toString('latin1')
        const shouldUpgrade = oracleUpgrade(raw)
        if (o.kind === 'tunnel') {
          upgrades++
          expect(shouldUpgrade).toBe(true)
          expect(Buffer.concat(written).subarray(0, UPGRADE_RESPONSE.length)).toEqual(Buffer.from(UPGRADE_RESPONSE))
          expect(connects).toBe(1)
        } else {
          expect(connects).toBe(0)
          if (o.kind === 'ordinary') expect(Buffer.concat(written).toString('latin1')).toMatch(/^HTTP\/1\.1 (400 Bad Request|404 Not Found)\r\nServer: nginx\r\n/)
        }
      }),
      { numRuns },
    )
    expect(upgrades).toBeGreaterThan(0)
  }, 60_000)
})

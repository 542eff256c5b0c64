// Properties of the WebTunnel server-side upgrade check (src/webtunnel/upgrade.ts): generated and
// mutated requests only ever give a verdict or a WireError, and nothing passes as an upgrade that
// lacks what makes one (checked against a separate, textual oracle).

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WireError } from '../src/wire/bytes.js'
import { checkUpgradeRequest, checkUpgradeResponse, encodeUpgradeRequest, UPGRADE_RESPONSE } from '../src/webtunnel/upgrade.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000
const PATH = '/s3cret'
const latin1 = (b: Uint8Array) => Array.from(b, (x) => String.fromCharCode(x)).join('')

/** What any accepted upgrade must show in its raw text; written without the HTTP codec. */
function oracleAllows(raw: string): boolean {
  const end = raw.indexOf('\r\n\r\n')
  if (end < 0) return false
  const lines = raw.slice(0, end).split('\r\n')
  const m = /^GET (\/[^ ?]*)(\?[^ ]*)? HTTP\/1\.1$/.exec(lines[0])
  if (!m || m[1] !== PATH) return false
  const field = (name: string) =>
    lines.slice(1).filter((l) => l.toLowerCase().startsWith(`${name}:`)).flatMap((l) => l.slice(name.length + 1).split(',')).map((v) => v.trim().toLowerCase())
  return field('connection').includes('upgrade') && field('upgrade').some((u) => u === 'websocket' || u.startsWith('websocket/'))
}

function judge(buf: Uint8Array): 'upgrade' | 'ordinary' | 'error' {
  try {
    return checkUpgradeRequest(buf, { path: PATH }).kind
  } catch (e) {
    expect(e).toBeInstanceOf(WireError)
    return 'error'
  }
}

const pick = <T>(xs: T[]) => fc.constantFrom(...xs)
const request = fc
  .record({
    // Valid choices repeated so that, even at 300 runs, every verdict turns up.
    method: pick(['GET', 'GET', 'GET', 'POST', 'get']),
    path: pick([PATH, PATH, `${PATH}?q=1`, '/', '/other', `${PATH}/`, PATH.toUpperCase()]),
    version: pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0']),
    connection: fc.option(pick(['upgrade', 'Upgrade', 'keep-alive, Upgrade', 'upgrade', 'close', 'upgradex', '']), { nil: undefined, freq: 10 }),
    upgrade: fc.option(pick(['websocket', 'WebSocket', 'websocket', 'h2c', 'websocket/13', 'websockets', '']), { nil: undefined, freq: 10 }),
    host: fc.option(pick(['example.com', 'a:1']), { nil: undefined }),
    extra: fc.array(fc.tuple(pick(['X-Forwarded-For', 'Sec-WebSocket-Key', 'Cookie', 'Content-Length', 'Transfer-Encoding']), fc.string({ maxLength: 20 })), { maxLength: 3 }),
    tail: fc.uint8Array({ maxLength: 40 }),
  })
  .map((r) => {
    const lines = [`${r.method} ${r.path} ${r.version}`]
    if (r.host !== undefined) lines.push(`Host: ${r.host}`)
    if (r.connection !== undefined) lines.push(`Connection: ${r.connection}`)
    if (r.upgrade !== undefined) lines.push(`Upgrade: ${r.upgrade}`)
    for (const [k, v] of r.extra) lines.push(`${k}: ${v}`)
    const head = new TextEncoder().encode(lines.join('\r\n') + '\r\n\r\n')
    const out = new Uint8Array(head.length + r.tail.length)
    out.set(head)
    out.set(r.tail, head.length)
    return out
  })

const mutated = fc
  .tuple(fc.oneof(request, fc.constant(encodeUpgradeRequest({ host: 'example.com', path: PATH }))), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), pick(['set', 'delete', 'insert'] as const)), { minLength: 1, maxLength: 6 }))
  .map(([b, muts]) => {
    let a = Array.from(b)
    for (const [at, v, op] of muts) {
      const i = at % (a.length + 1)
      if (op === 'set' && i < a.length) a[i] = v
      else if (op === 'delete') a = [...a.slice(0, i), ...a.slice(i + 1)]
      else a = [...a.slice(0, i), v, ...a.slice(i)]
    }
    return Uint8Array.from(a)
  })

describe('WebTunnel upgrade check (properties)', () => {
  it('generated requests: a verdict or WireError, and upgrade exactly when the oracle agrees', () => {
    const seen = { upgrade: 0, ordinary: 0, error: 0 }
    fc.assert(
      fc.property(request, (b) => {
        const v = judge(b)
        seen[v]++
        // Generated heads carry at most one Host and well-formed fields, so here the oracle's
        // necessary conditions are also sufficient unless the head itself is malformed.
        if (v === 'upgrade') expect(oracleAllows(latin1(b))).toBe(true)
        if (v === 'ordinary') expect(oracleAllows(latin1(b))).toBe(false)
      }),
      { numRuns },
    )
    // The generator must reach every verdict, or the property above says little.
    expect(Math.min(seen.upgrade, seen.ordinary, seen.error)).toBeGreaterThan(0)
  })

  it('the valid request passes, whatever follows it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => {
        const req = encodeUpgradeRequest({ host: 'example.com', path: PATH })
        const buf = new Uint8Array(req.length + tail.length)
        buf.set(req)
        buf.set(tail, req.length)
        const v = checkUpgradeRequest(buf, { path: PATH })
        expect(v.kind).toBe('upgrade')
        expect(v.used).toBe(req.length)
      }),
      { numRuns: Math.ceil(numRuns / 10) },
    )
  })

  it('mutated requests: never a crash, never an upgrade the oracle refuses', () => {
    fc.assert(
      fc.property(mutated, (b) => {
        if (judge(b) === 'upgrade') expect(oracleAllows(latin1(b))).toBe(true)
      }),
      { numRuns },
    )
  })

  it('random bytes: only WireError or ordinary, never an upgrade', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600, size: 'max' }), (b) => {
        expect(judge(b)).not.toBe('upgrade')
      }),
      { numRuns },
    )
  })

  it('client side: random and mutated 101s only ever give WireError', () => {
    const resp = fc.oneof(
      fc.uint8Array({ maxLength: 300, size: 'max' }),
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, v]) => {
        const b = UPGRADE_RESPONSE.slice()
        b[at % b.length] = v
        return b
      }),
    )
    fc.assert(
      fc.property(resp, (b) => {
        try {
          const { head } = checkUpgradeResponse(b)
          expect(head.status).toBe(101)
        } catch (e) {
          expect(e).toBeInstanceOf(WireError)
        }
      }),
      { numRuns },
    )
  })
})

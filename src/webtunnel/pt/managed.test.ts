import { describe, expect, it } from 'vitest'
import { liveWorld } from '../../net/live/world.js'
import { parseClientEnv, parseServerEnv, PtEnvError } from './env.js'
import * as line from './lines.js'
import { runManagedClient, runManagedServer } from './managed.js'

describe('PT managed-proxy environment and lines (pt-spec.txt §3.2, §3.3)', () => {
  it('parses the client environment', () => {
    expect(parseClientEnv({ TOR_PT_MANAGED_TRANSPORT_VER: '1', TOR_PT_CLIENT_TRANSPORTS: 'webtunnel,obfs4', TOR_PT_STATE_LOCATION: '/s', TOR_PT_EXIT_ON_STDIN_CLOSE: '1' })).toEqual({
      stateLocation: '/s', exitOnStdinClose: true, transports: ['webtunnel', 'obfs4'], proxy: undefined,
    })
  })

  it('parses the server environment (pt-spec examples: "trebuchet-127.0.0.1:1984,ballista-127.0.0.1:4891")', () => {
    const e = parseServerEnv({
      TOR_PT_MANAGED_TRANSPORT_VER: '1', TOR_PT_SERVER_TRANSPORTS: 'trebuchet,ballista', TOR_PT_SERVER_BINDADDR: 'trebuchet-127.0.0.1:1984,ballista-127.0.0.1:4891',
      TOR_PT_ORPORT: '127.0.0.1:9001', TOR_PT_EXTENDED_SERVER_PORT: '127.0.0.1:4200', TOR_PT_AUTH_COOKIE_FILE: '/var/lib/tor/extended_orport_auth_cookie',
    })
    expect(e.bindaddrs.get('ballista')).toEqual({ host: '127.0.0.1', port: 4891 })
    expect(e.extendedServerPort).toEqual({ host: '127.0.0.1', port: 4200 })
    expect(e.orport).toEqual({ host: '127.0.0.1', port: 9001 })
  })

  it('answers a bad environment with the spec lines', () => {
    const err = (f: () => unknown) => {
      try {
        f()
      } catch (e) {
        return (e as PtEnvError).line
      }
    }
    expect(err(() => parseClientEnv({ TOR_PT_MANAGED_TRANSPORT_VER: '2', TOR_PT_CLIENT_TRANSPORTS: 'webtunnel' }))).toBe('VERSION-ERROR no-version')
    expect(err(() => parseClientEnv({ TOR_PT_MANAGED_TRANSPORT_VER: '1' }))).toMatch(/^ENV-ERROR /)
    expect(err(() => parseServerEnv({ TOR_PT_MANAGED_TRANSPORT_VER: '1', TOR_PT_SERVER_TRANSPORTS: 'webtunnel', TOR_PT_EXTENDED_SERVER_PORT: '127.0.0.1:1' }))).toMatch(/^ENV-ERROR .*COOKIE/)
  })

  it('writes the lines as the spec spells them', () => {
    expect(line.CMETHOD('webtunnel', '127.0.0.1', 1080)).toBe('CMETHOD webtunnel socks5 127.0.0.1:1080')
    expect(line.SMETHOD('webtunnel', '2001:db8::1', 443, [['url', 'https://h/p'], ['ver', '1']])).toBe('SMETHOD webtunnel [2001:db8::1]:443 ARGS:url=https://h/p,ver=1')
    expect(line.LOG('warning', 'say "hi"\n')).toBe('LOG SEVERITY=warning MESSAGE="say \\"hi\\"\\n"')
  })

  it('runs the managed client and server dialogues', async () => {
    const world = liveWorld()
    const out: string[] = []
    const c = await runManagedClient(world, { TOR_PT_MANAGED_TRANSPORT_VER: '1', TOR_PT_CLIENT_TRANSPORTS: 'webtunnel,obfs4' }, (l) => out.push(l))
    expect(out[0]).toBe('VERSION 1')
    expect(out).toContain('CMETHOD-ERROR obfs4 no such method')
    expect(out[2]).toMatch(/^CMETHOD webtunnel socks5 127\.0\.0\.1:\d+$/)
    expect(out.at(-1)).toBe('CMETHODS DONE')
    for (const l of c.listeners) await l.close()

    const sout: string[] = []
    const env = { TOR_PT_MANAGED_TRANSPORT_VER: '1', TOR_PT_SERVER_TRANSPORTS: 'webtunnel', TOR_PT_SERVER_BINDADDR: 'webtunnel-127.0.0.1:0', TOR_PT_ORPORT: '127.0.0.1:9' }
    const noUrl = await runManagedServer(world, env, (l) => sout.push(l), { readCookieFile: async () => new Uint8Array(), version: 'v' })
    expect(noUrl.ok).toBe(false)
    expect(sout).toEqual(['VERSION 1', 'SMETHOD-ERROR webtunnel missing url parameter', 'SMETHODS DONE'])
    sout.length = 0
    const s = await runManagedServer(world, { ...env, TOR_PT_SERVER_TRANSPORT_OPTIONS: 'webtunnel:url=https://example.com/secret' }, (l) => sout.push(l), { readCookieFile: async () => new Uint8Array(), version: 'v' })
    // The placeholder for this url is checked against OpenSSL's SHA-256 in bridge-line.test.ts.
    expect(sout).toEqual(['VERSION 1', 'SMETHOD webtunnel [2001:db8:bce5:252f:cb34:2be1:d5a3:9c16]:443 ARGS:url=https://example.com/secret,ver=v', 'SMETHODS DONE'])
    for (const l of s.listeners) await l.close()
  })
})

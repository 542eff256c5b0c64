// Real peers against the engine: curl (SOCKS5 with remote name resolution, SOCKS4a, RFC 1929)
// and Debian's tor-resolve (Tor's RESOLVE / RESOLVE_PTR). Everything stays on 127.0.0.1: the
// "destination" never exists, the tiny driver below answers as if it had connected.

import { execFile } from 'node:child_process'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SocksServerHandshake, type SocksRequestEvent, type SocksServerOptions } from './server-handshake.js'

const BODY = 'hello from the sultry socks test\n'
const RESPONSE = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`

interface Driver {
  server: Server
  port: number
  seen: SocksRequestEvent[]
}

/** Answers `resolve` with 192.0.2.55 and `resolve-ptr` with a name; `connect` with a fixed HTTP response. */
function startDriver(options: SocksServerOptions): Promise<Driver> {
  const seen: SocksRequestEvent[] = []
  const server = createServer((sock: Socket) => {
    const hs = new SocksServerHandshake(options)
    sock.on('error', () => {})
    const onData = (chunk: Buffer) => {
      for (const ev of hs.receive(new Uint8Array(chunk))) {
        if (ev.kind === 'send') sock.write(ev.bytes)
        else if (ev.kind === 'error') sock.end(ev.reply)
        else {
          seen.push(ev)
          sock.off('data', onData)
          if (ev.command === 'resolve') sock.end(hs.reply('succeeded', { host: '192.0.2.55', port: 0 }))
          else if (ev.command === 'resolve-ptr') sock.end(hs.reply('succeeded', { host: 'ptr.sultry.test', port: 0 }))
          else {
            sock.write(hs.reply('succeeded', { host: '127.0.0.1', port: 0 }))
            sock.end(RESPONSE)
          }
        }
      }
    }
    sock.on('data', onData)
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, seen })),
  )
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

describe('SocksServerHandshake against curl and tor-resolve', () => {
  let open: Driver
  let auth: Driver
  const users: string[] = []
  beforeAll(async () => {
    open = await startDriver({ methods: ['no-auth'] })
    auth = await startDriver({
      methods: ['username-password'],
      credentials: (u, p) => (users.push(u), u === 'alice' && p === 's3cret'),
    })
  })
  afterAll(() => {
    open.server.close()
    auth.server.close()
  })

  it('curl --socks5-hostname: the name reaches the proxy unresolved', async () => {
    const out = await run('curl', ['-sS', '--max-time', '10', '--socks5-hostname', `127.0.0.1:${open.port}`, 'http://some.name:8080/x'])
    expect(out.stderr).toBe('')
    expect(out.stdout).toBe(BODY)
    expect(open.seen.at(-1)).toMatchObject({ version: 5, command: 'connect', host: 'some.name', addressType: 'domain', port: 8080 })
    // curl sends its GET only after our reply, so nothing was pipelined.
    expect(open.seen.at(-1)?.leftover.length).toBe(0)
  })

  it('curl --socks4a: the SOCKS4a domain form', async () => {
    const out = await run('curl', ['-sS', '--max-time', '10', '--socks4a', `127.0.0.1:${open.port}`, 'http://four.a.name/'])
    expect(out.stdout).toBe(BODY)
    expect(open.seen.at(-1)).toMatchObject({ version: 4, command: 'connect', host: 'four.a.name', addressType: 'domain', port: 80 })
  })

  it('curl --socks5-hostname with --proxy-user: RFC 1929 credentials', async () => {
    const proxy = ['--socks5-hostname', `127.0.0.1:${auth.port}`]
    const ok = await run('curl', ['-sS', '--max-time', '10', ...proxy, '--proxy-user', 'alice:s3cret', 'http://auth.name/'])
    expect(ok.stdout).toBe(BODY)
    expect(auth.seen.at(-1)).toMatchObject({ version: 5, host: 'auth.name', port: 80, username: 'alice', password: 's3cret' })
    const bad = await run('curl', ['-sS', '--max-time', '10', ...proxy, '--proxy-user', 'alice:wrong', 'http://auth.name/'])
    expect(bad.code).not.toBe(0)
    expect(bad.stdout).toBe('')
    expect(auth.seen.length).toBe(1)
    expect(users).toEqual(['alice', 'alice'])
  })

  it('tor-resolve: Tor RESOLVE (F0) over SOCKS5 and SOCKS4a, RESOLVE_PTR (F1) over SOCKS5', async () => {
    const five = await run('tor-resolve', ['-5', 'resolve.me', `127.0.0.1:${open.port}`])
    expect(five.stdout.trim()).toBe('192.0.2.55')
    expect(open.seen.at(-1)).toMatchObject({ version: 5, command: 'resolve', host: 'resolve.me', addressType: 'domain' })

    const four = await run('tor-resolve', ['-4', 'resolve4.me', `127.0.0.1:${open.port}`])
    expect(four.stdout.trim()).toBe('192.0.2.55')
    expect(open.seen.at(-1)).toMatchObject({ version: 4, command: 'resolve', host: 'resolve4.me', addressType: 'domain' })

    const ptr = await run('tor-resolve', ['-x', '192.0.2.9', `127.0.0.1:${open.port}`])
    expect(ptr.stdout.trim()).toBe('ptr.sultry.test')
    expect(open.seen.at(-1)).toMatchObject({ version: 5, command: 'resolve-ptr', host: '192.0.2.9', addressType: 'ipv4' })
  })
})

// Real-peer sanity check: node:tls talks to `openssl s_server` through a TCP relay we control; the
// relay's copies of both directions must dissect into the ClientHello node sent (SNI, ALPN) and a
// TLS 1.3 ServerHello, and decrypt with the keys node:tls logged.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import { concatBytes } from '../bytes.js'
import { parseKeylog } from '../keylog.js'
import { decryptTls13Conversation, negotiatedCipherSuite, secretsForConversation } from '../../crypto/tls13/conversation.js'
import { HandshakeType } from './handshake.js'
import { dissectTlsConversation, TLS13 } from './dissect.js'

let dir: string
let server: ChildProcess | undefined
let port: number

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sultry-tls-'))
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=example.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' })
  port = await freePort()
  const child = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', join(dir, 'cert.pem'), '-key', join(dir, 'key.pem'), '-www', '-alpn', 'http/1.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  server = child
  await new Promise<void>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('ACCEPT')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`openssl s_server exited with ${code}`)))
  })
})

afterAll(() => {
  server?.kill()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** One HTTPS request through a relay that records both directions. */
async function captureOneConnection(maxVersion: tls.SecureVersion = 'TLSv1.3'): Promise<{ c2s: Uint8Array; s2c: Uint8Array; keylog: string; response: string }> {
  const c2s: Buffer[] = []
  const s2c: Buffer[] = []
  let relayDone!: () => void
  const relayClosed = new Promise<void>((r) => (relayDone = r))
  const relay = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1')
    down.on('data', (d: Buffer) => {
      c2s.push(d)
      up.write(d)
    })
    up.on('data', (d: Buffer) => {
      s2c.push(d)
      down.write(d)
    })
    down.on('end', () => up.end())
    up.on('end', () => down.end())
    let closed = 0
    const onClose = () => ++closed === 2 && relayDone()
    down.on('close', onClose)
    up.on('close', onClose)
    down.on('error', () => up.destroy())
    up.on('error', () => down.destroy())
  })
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r))
  const relayPort = (relay.address() as net.AddressInfo).port

  let keylog = ''
  const response = await new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: relayPort, servername: 'example.test', ALPNProtocols: ['http/1.1'], rejectUnauthorized: false, maxVersion })
    socket.on('keylog', (line: Buffer) => (keylog += line.toString()))
    let body = ''
    socket.on('secureConnect', () => socket.write('GET / HTTP/1.0\r\n\r\n'))
    socket.on('data', (d: Buffer) => (body += d.toString('latin1')))
    socket.on('end', () => resolve(body))
    socket.on('error', reject)
  })
  await relayClosed
  relay.close()
  return { c2s: concatBytes(...c2s), s2c: concatBytes(...s2c), keylog, response }
}

describe('dissectTlsConversation against openssl s_server and node:tls', () => {
  it('sees the ClientHello with its SNI and a ServerHello selecting TLS 1.3, and decrypts with the keylog', async () => {
    const { c2s, s2c, keylog, response } = await captureOneConnection()
    expect(response).toMatch(/^HTTP\/1\.0 200 ok/)

    const d = dissectTlsConversation(c2s, s2c)
    expect(d.client.error).toBeUndefined()
    expect(d.server.error).toBeUndefined()
    const ch = d.client.handshakes[0].clientHello
    expect(ch?.sni).toBe('example.test')
    expect(ch?.alpn).toEqual(['http/1.1'])
    expect(ch?.supportedVersions).toContain(TLS13)
    const sh = d.server.handshakes.find((h) => h.serverHello)?.serverHello
    expect(sh?.selectedVersion).toBe(TLS13)
    expect(sh?.helloRetryRequest).toBe(false)
    // Everything the server sent after its ServerHello, except CCS, is outer type 23 and encrypted.
    const shRecord = d.server.handshakes.find((h) => h.serverHello)!.lastRecord
    for (const r of d.server.records.slice(shRecord + 1)) expect(r.encrypted).toBe(r.type !== 20)

    const secrets = secretsForConversation(d, parseKeylog(keylog))
    expect(secrets).toBeDefined()
    const out = decryptTls13Conversation({ dissection: d, clientToServer: c2s, serverToClient: s2c, secrets: secrets!, cipherSuite: negotiatedCipherSuite(d)! })
    expect(out.server.error).toBeUndefined()
    expect(out.client.error).toBeUndefined()
    const serverTypes = out.server.records.flatMap((r) => r.handshakeTypes)
    expect(serverTypes.slice(0, 5)).toEqual([
      HandshakeType.encryptedExtensions, HandshakeType.certificate, HandshakeType.certificateVerify, HandshakeType.finished, HandshakeType.newSessionTicket,
    ])
    expect(out.client.records[0].handshakeTypes).toEqual([HandshakeType.finished])
    const clientData = out.client.records.filter((r) => r.innerType === 23).map((r) => Buffer.from(r.plaintext).toString('latin1')).join('')
    expect(clientData).toBe('GET / HTTP/1.0\r\n\r\n')
    const serverData = out.server.records.filter((r) => r.innerType === 23).map((r) => Buffer.from(r.plaintext).toString('latin1')).join('')
    expect(serverData).toBe(response)
  })

  it('TLS 1.2: sees the ChangeCipherSpec switch in each direction and leaves the encrypted Finished unparsed', async () => {
    const { c2s, s2c, keylog, response } = await captureOneConnection('TLSv1.2')
    expect(response).toMatch(/^HTTP\/1\.0 200 ok/)
    const d = dissectTlsConversation(c2s, s2c)
    expect(d.client.error).toBeUndefined()
    expect(d.server.error).toBeUndefined()
    expect(d.client.handshakes[0].clientHello?.sni).toBe('example.test')
    const sh = d.server.handshakes[0].serverHello
    expect(sh?.version).toBe(0x0303)
    expect(sh?.selectedVersion).toBeUndefined()
    // ECDHE key exchange: ServerHello, Certificate, ServerKeyExchange, ServerHelloDone, then
    // (plaintext) NewSessionTicket before the server's CCS; the client sends ClientKeyExchange.
    expect(d.server.handshakes.map((h) => h.type)).toEqual([
      HandshakeType.serverHello, HandshakeType.certificate, HandshakeType.serverKeyExchange, HandshakeType.serverHelloDone, HandshakeType.newSessionTicket,
    ])
    expect(d.client.handshakes.map((h) => h.type)).toEqual([HandshakeType.clientHello, HandshakeType.clientKeyExchange])
    for (const dir of [d.client, d.server]) {
      const ccs = dir.records.findIndex((r) => r.type === 20)
      expect(ccs).toBeGreaterThan(0)
      expect(dir.records.slice(0, ccs + 1).every((r) => !r.encrypted)).toBe(true)
      expect(dir.records.slice(ccs + 1).every((r) => r.encrypted)).toBe(true)
      expect(dir.records[ccs + 1].type).toBe(22) // the encrypted Finished
    }
    expect(secretsForConversation(d, parseKeylog(keylog))?.CLIENT_RANDOM?.length).toBe(48)
  })
})

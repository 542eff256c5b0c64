// A real capture: tcpdump on loopback while node:net peers exchange known bytes; our reader and
// reassembler must return exactly those bytes, and agree with tshark's follow,tcp — for the
// classic file tcpdump writes, its pcapng and nanosecond conversions, and a Linux "any" capture
// (SLL2 link layer). --immediate-mode: without it TPACKET_V3 hands packets over in blocks and
// the tail of the exchange may never reach the file before tcpdump is stopped.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { concatBytes, toHex } from '../src/wire/bytes.js'
import { readCapture } from '../src/wire/pcap/capture.js'
import { LinkType } from '../src/wire/pcap/link-type.js'
import { reassembleCapture } from '../src/wire/pcap/reassemble-capture.js'
import type { TcpFlow } from '../src/wire/pcap/tcp-reassembly.js'
import { followTcp } from './pcap-tshark.js'

const dir = mkdtempSync(join(tmpdir(), 'sultry-live-capture-'))
const toServer = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7 + (i >> 9)) & 0xff) // many segments
const toClient = concatBytes(new TextEncoder().encode('HTTP/1.1 200 OK\r\n\r\n'), Uint8Array.from({ length: 70_000 }, (_, i) => (i * 13) & 0xff))

let port = 0
let dropped: number[] = []
const files = { lo: join(dir, 'lo.pcap'), any: join(dir, 'any.pcap') }

const tcpdumpLog = new Map<ChildProcess, string>()

function startTcpdump(iface: string, file: string, filter: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn('tcpdump', ['-i', iface, '-U', '--immediate-mode', '-B', '32768', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    p.stderr.on('data', (b: Buffer) => {
      err += b.toString()
      tcpdumpLog.set(p, err)
      if (err.includes('listening')) resolve(p)
    })
    p.on('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)))
  })
}

/** Stops tcpdump; resolves with how many packets it says the kernel dropped. */
function stop(p: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    p.removeAllListeners('exit')
    p.on('exit', () => resolve(Number(/(\d+) packets? dropped by kernel/.exec(tcpdumpLog.get(p) ?? '')?.[1] ?? NaN)))
    p.kill('SIGTERM') // tcpdump flushes and closes the file on SIGTERM
  })
}

async function exchange(server: Server): Promise<{ serverGot: Uint8Array; clientGot: Uint8Array }> {
  const serverSide = new Promise<Uint8Array>((resolve) => {
    server.once('connection', (s: Socket) => {
      const got: Buffer[] = []
      s.on('data', (b) => got.push(b))
      s.on('end', () => {
        s.end(toClient) // reply after the client's half-close, then close our side
        resolve(new Uint8Array(Buffer.concat(got)))
      })
    })
  })
  const clientGot = await new Promise<Uint8Array>((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () => c.end(toServer))
    const got: Buffer[] = []
    c.on('data', (b) => got.push(b))
    c.on('close', () => resolve(new Uint8Array(Buffer.concat(got))))
    c.on('error', reject)
  })
  return { serverGot: await serverSide, clientGot }
}

beforeAll(async () => {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as AddressInfo).port
  const filter = `tcp port ${port}`
  const lo = await startTcpdump('lo', files.lo, filter)
  const any = await startTcpdump('any', files.any, filter)
  try {
    const { serverGot, clientGot } = await exchange(server)
    // The peers themselves saw the right bytes; otherwise a capture mismatch means nothing.
    expect(toHex(serverGot)).toBe(toHex(toServer))
    expect(toHex(clientGot)).toBe(toHex(toClient))
    await new Promise((r) => setTimeout(r, 300)) // let the last packets reach the capture file
  } finally {
    dropped = await Promise.all([stop(lo), stop(any)])
    server.close()
  }
  execFileSync('editcap', ['-F', 'pcapng', files.lo, join(dir, 'lo.pcapng')])
  execFileSync('editcap', ['-F', 'nsecpcap', files.lo, join(dir, 'lo-ns.pcap')])
}, 60_000)

function ourFlow(file: string): { flows: TcpFlow[]; format: string; linkType: number } {
  const cap = readCapture(new Uint8Array(readFileSync(file)))
  expect(cap.error).toBeUndefined()
  const { flows, skipped } = reassembleCapture(cap)
  expect(skipped.malformed + skipped.unsupportedLink).toBe(0)
  return { flows, format: cap.format, linkType: cap.packets[0].linkType }
}

function checkFlow(f: TcpFlow): void {
  expect(f.client.addr).toBe('127.0.0.1')
  expect(f.server).toEqual({ addr: '127.0.0.1', port })
  expect(toHex(f.toServer.bytes)).toBe(toHex(toServer))
  expect(toHex(f.toClient.bytes)).toBe(toHex(toClient))
  expect([f.toServer.fin, f.toClient.fin]).toEqual([true, true])
  expect([f.toServer.gaps, f.toClient.gaps]).toEqual([[], []])
}

describe('a real loopback capture', () => {
  it('was complete: tcpdump reports no kernel drops (otherwise the comparisons below mean little)', () => {
    expect(dropped).toEqual([0, 0])
  })

  it('reassembles the bytes the peers exchanged, as tshark follows them (tcpdump -i lo)', () => {
    const { flows, format, linkType } = ourFlow(files.lo)
    expect([format, linkType]).toEqual(['pcap', LinkType.ETHERNET])
    expect(flows.length).toBe(1)
    checkFlow(flows[0])
    const t = followTcp(files.lo, 0)
    expect(toHex(flows[0].toServer.bytes)).toBe(toHex(t.fromNode0))
    expect(toHex(flows[0].toClient.bytes)).toBe(toHex(t.fromNode1))
  })

  it('gives the same flows from the pcapng and nanosecond conversions', () => {
    const base = ourFlow(files.lo).flows
    for (const [name, format] of [['lo.pcapng', 'pcapng'], ['lo-ns.pcap', 'pcap']]) {
      const other = ourFlow(join(dir, name))
      expect(other.format).toBe(format)
      expect(other.flows.length).toBe(1)
      checkFlow(other.flows[0])
      expect(other.flows[0].toServer.chunks).toEqual(base[0].toServer.chunks)
    }
  })

  it('reads a Linux "any" capture (SLL2) to the same bytes', () => {
    const { flows, linkType } = ourFlow(files.any)
    expect([LinkType.LINUX_SLL, LinkType.LINUX_SLL2]).toContain(linkType)
    expect(flows.length).toBe(1)
    checkFlow(flows[0])
    const t = followTcp(files.any, 0)
    expect(toHex(flows[0].toClient.bytes)).toBe(toHex(t.fromNode1))
  })
})

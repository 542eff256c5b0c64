// KernelTlsSocket's readiness and flow control, on any Linux machine: recvmsg/sendmsg and the libuv
// poll work the same on a plain TCP socket (no tls ULP: recvmsg returns the bytes with no record-type
// cmsg, reported as application data), so the fd is taken over exactly as handover.ts does it
// (Node's reading stopped, fd dup()ed, Node's handle destroyed) and data is pushed through it in the
// patterns that lose a wakeup if readiness is wrong. There is no timer fallback in the socket: a
// missed poll event makes these tests hang and fail on their timeout.
//
// These caught the bug the 10 ms retry used to hide: the addon called napi_make_callback with an
// `undefined` receiver, so every poll event failed before reaching JS.

import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { KernelTlsSocket } from './kernel-socket.js'
import { ADDON_PATH, loadAddon, type KtlsAddon } from './native.js'
import { openRing, UringTlsSocket } from './uring-socket.js'

let addon: KtlsAddon
beforeAll(() => {
  if (!existsSync(ADDON_PATH)) execFileSync('make', ['native'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'ignore' })
  const load = loadAddon()
  if (!load.ok) throw new Error(load.reason)
  addon = load.addon
})

const cleanup: (() => void)[] = []
afterEach(() => cleanup.splice(0).forEach((f) => f()))

/** Deterministic bytes (xorshift32), so a mismatch is reproducible. */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

type Io = 'plain' | 'uring'

interface Adopted {
  socket: KernelTlsSocket | UringTlsSocket
  peer: net.Socket
  /** Wakeups seen (from the socket's trace): poll callbacks (plain) or io_uring completions (uring). */
  polls(): number
}

/** A loopback pair whose client side is handed to the kernel socket (plain or io_uring) the way handover.ts does it. */
async function adopted(io: Io, beforeAdopt?: (peer: net.Socket) => Promise<void>): Promise<Adopted> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r))
  const raw = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  await new Promise<void>((r) => raw.once('connect', r))
  const peer = await accepted
  peer.setNoDelay(true)
  // Node must not read anything meant for the new owner (the pump stops it at secureConnect).
  const handle = (raw as unknown as { _handle: { fd: number; readStop(): number } })._handle
  raw.pause()
  handle.readStop()
  await beforeAdopt?.(peer)
  const own = addon.dup(handle.fd)
  expect(own).toBeGreaterThanOrEqual(0)
  raw.destroy()
  let polls = 0
  const trace = (line: string) => {
    if (line.startsWith('poll status') || / res=/.test(line)) polls++
  }
  let socket: KernelTlsSocket | UringTlsSocket
  if (io === 'uring') {
    const ring = openRing(addon, own)
    if (!ring.ok) throw new Error(ring.reason)
    socket = new UringTlsSocket(addon, ring, own, [], trace)
  } else socket = new KernelTlsSocket(addon, own, [], trace)
  cleanup.push(() => {
    socket.destroy()
    peer.destroy()
    server.close()
  })
  return { socket, peer, polls: () => polls }
}

async function readAll(s: KernelTlsSocket | UringTlsSocket, onChunk?: (n: number) => Promise<void> | void): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let n = 0
  for await (const c of s as AsyncIterable<Buffer>) {
    parts.push(c)
    await onChunk?.(++n)
  }
  return Buffer.concat(parts)
}

// io_uring must be usable here for the uring half (it is on the development machine; a sandbox that
// blocks io_uring_setup fails these tests with the setup step and errno, rather than skipping them).
for (const io of ['plain', 'uring'] as const)
describe(`${io === 'plain' ? 'KernelTlsSocket readiness' : 'UringTlsSocket completions'} (plain TCP under the same fd takeover as the handover)`, { timeout: 30_000 }, () => {
  it('many small writes from the peer, with gaps, arrive complete', async () => {
    const { socket, peer, polls } = await adopted(io)
    const body = pattern(600_000, 1)
    const got = readAll(socket)
    // 1..64-byte writes, yielding to the event loop every 50 writes, so the client waits often.
    let at = 0
    for (let i = 0; at < body.length; i++) {
      const n = 1 + (body[at] & 63)
      peer.write(body.subarray(at, at + n))
      at += n
      if (i % 50 === 0) await new Promise((r) => setImmediate(r))
    }
    peer.end()
    expect(sha(await got)).toBe(sha(body))
    expect(polls()).toBeGreaterThan(0)
  })

  it('a body that arrives while the reader is paused is read after resume (no new data to wake it)', async () => {
    const { socket, peer } = await adopted(io)
    // Small enough for loopback's socket buffers, so the peer finishes while the reader is stalled.
    const body = pattern(256 * 1024 + 3, 2)
    let peerDone = false
    const finished = new Promise<void>((r) => peer.end(body, () => setTimeout(r, 100)))
    const got = readAll(socket, async (n) => {
      // Stall the consumer after the first chunk until the peer has sent everything and closed:
      // the stream's buffer fills, the socket stops polling, the rest waits in the kernel, and
      // after the last byte nothing new ever arrives to produce a fresh readiness event.
      if (n === 1) await finished.then(() => (peerDone = true))
    })
    expect(sha(await got)).toBe(sha(body))
    expect(peerDone).toBe(true)
  })

  it('data already queued in the kernel before the takeover, then a request/response', async () => {
    const first = pattern(100_000, 3)
    const second = pattern(300_000, 4)
    const { socket, peer } = await adopted(io, async (p) => {
      p.write(first)
      await sleep(50) // it is in the client's receive queue before the poll handle exists
    })
    peer.once('data', () => peer.end(second))
    const got = readAll(socket, (n) => {
      if (n === 1) socket.write('next')
    })
    expect(sha(await got)).toBe(sha(Buffer.concat([first, second])))
  })

  it('a 64 MiB download with a consumer that pauses now and then', async () => {
    const { socket, peer, polls } = await adopted(io)
    const block = pattern(1024 * 1024, 5)
    const hash = createHash('sha256')
    const send = (async () => {
      for (let i = 0; i < 64; i++) {
        hash.update(block)
        if (!peer.write(block)) await new Promise((r) => peer.once('drain', r))
      }
      peer.end()
    })()
    const got = createHash('sha256')
    let bytes = 0
    let chunks = 0
    for await (const c of socket as AsyncIterable<Buffer>) {
      got.update(c)
      bytes += c.length
      if (++chunks % 300 === 0) await sleep(2)
    }
    await send
    expect(bytes).toBe(64 * 1024 * 1024)
    expect(got.digest('hex')).toBe(hash.digest('hex'))
    expect(polls()).toBeGreaterThan(0)
  })

  it('writes that hit EAGAIN complete once the peer reads (WRITABLE readiness)', async () => {
    const { socket, peer } = await adopted(io)
    const body = pattern(16 * 1024 * 1024, 6)
    peer.pause()
    const written = new Promise<void>((resolve, reject) => socket.write(body, (e) => (e ? reject(e) : resolve())))
    await sleep(100) // both socket buffers fill: sendmsg returns EAGAIN and the socket waits for WRITABLE
    const parts: Buffer[] = []
    let n = 0
    const received = new Promise<void>((r) =>
      peer.on('data', (d: Buffer) => {
        parts.push(d)
        if ((n += d.length) === body.length) r()
      }),
    )
    peer.resume()
    await written
    await received
    expect(sha(Buffer.concat(parts))).toBe(sha(body))
  })
})

describe('UringTlsSocket lifecycle', { timeout: 30_000 }, () => {
  it('destroyed while a recvmsg is parked in the ring: cancelled and closed, the peer sees the close', async () => {
    const { socket, peer } = await adopted('uring')
    socket.resume() // a recvmsg goes into the ring and waits: the peer sends nothing
    await sleep(50)
    const closed = new Promise<void>((r) => peer.once('close', () => r()))
    peer.resume()
    socket.destroy()
    await closed
    expect(socket.destroyed).toBe(true)
  })

  it('destroyed from inside a completion (the first data): the ring is freed after the callback, no crash', async () => {
    const { socket, peer } = await adopted('uring')
    const got = new Promise<number>((r) => socket.once('data', (d: Buffer) => {
      socket.destroy()
      r(d.length)
    }))
    peer.write(pattern(1000, 7))
    expect(await got).toBeGreaterThan(0)
    await sleep(50)
    // Still usable afterwards: another ring on another socket works.
    const second = await adopted('uring')
    const body = pattern(70_000, 8)
    const all = readAll(second.socket)
    second.peer.end(body)
    expect(sha(await all)).toBe(sha(body))
  })

  it('a recvmsg error from the kernel (EBADF: the fd closed under the ring) destroys the stream with the errno', async () => {
    // A socket of our own (the ring makes its file blocking, so not a dup of a live Node socket).
    const server = net.createServer((c) => cleanup.push(() => c.destroy()))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    cleanup.push(() => server.close())
    const raw = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
    await new Promise<void>((r) => raw.once('connect', r))
    const handle = (raw as unknown as { _handle: { fd: number; readStop(): number } })._handle
    handle.readStop()
    const fd = addon.dup(handle.fd)
    raw.destroy()
    const ring = openRing(addon, fd)
    if (!ring.ok) throw new Error(ring.reason)
    addon.close(fd)
    const s = new UringTlsSocket(addon, ring, -1)
    const err = new Promise<Error>((r) => s.once('error', r))
    s.resume()
    expect((await err).message).toBe('kTLS io_uring recvmsg: EBADF')
  })

  it('a ring on something that is not an open fd is refused at setup (fcntl EBADF), not at the first read', () => {
    expect(openRing(addon, 1_000_000)).toEqual({ ok: false, reason: 'EBADF from fcntl(F_SETFL) clearing O_NONBLOCK' })
  })

  it('a ring that cannot be set up is a reason (step and errno), not an exception', () => {
    const fake = { ...addon, uringOpen: () => ({ step: 'io_uring_setup', errno: 1 }) } as KtlsAddon
    expect(openRing(fake, 3)).toEqual({ ok: false, reason: 'EPERM from io_uring_setup' })
  })

  it('records a sent burst as the same bytes the peer receives (sendmsg completions, short sends continued)', async () => {
    const { socket, peer } = await adopted('uring')
    const body = pattern(3 * 1024 * 1024 + 11, 9) // > the ring's 256 KiB send buffer: several submissions
    const parts: Buffer[] = []
    let n = 0
    // end() sends close_notify but no FIN (the fd stays open until destroy), so count the bytes.
    const received = new Promise<void>((r) => peer.on('data', (d: Buffer) => {
      parts.push(d)
      if ((n += d.length) === body.length + 2) r()
    }))
    await new Promise<void>((resolve, reject) => socket.end(body, () => resolve()).once('error', reject))
    await received
    // The last two bytes are the close_notify alert body (1, 0) sent by _final as a record of its own.
    const all = Buffer.concat(parts)
    expect(sha(all.subarray(0, body.length))).toBe(sha(body))
    expect([...all.subarray(body.length)]).toEqual([1, 0])
  })
})

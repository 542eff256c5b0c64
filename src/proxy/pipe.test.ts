import { describe, expect, it } from 'vitest'
import { liveWorld } from '../net/live/world.js'
import type { Conn } from '../net/world.js'
import { splice } from './pipe.js'

/** A client socket, the proxy's accepted side of it, and the proxy's upstream socket with the server's side. */
async function pairs() {
  const w = liveWorld()
  let acceptedFront: Conn | undefined
  let acceptedServer: Conn | undefined
  const front = await w.net.listen(0, (c) => (acceptedFront = c))
  const server = await w.net.listen(0, (c) => (acceptedServer = c))
  const client = await w.net.connect('127.0.0.1', front.port)
  const upstream = await w.net.connect('127.0.0.1', server.port)
  while (!acceptedFront || !acceptedServer) await new Promise((r) => setImmediate(r))
  return { client, proxySide: acceptedFront, upstream, origin: acceptedServer, close: () => Promise.all([front.close(), server.close()]) }
}

describe('splice', () => {
  it('propagates half-close: the client FINs after its request, the server still answers, then FINs', async () => {
    const p = await pairs()
    const done = splice(p.proxySide, p.upstream)
    const request = Buffer.alloc(3 * 1024 * 1024, 7)
    const got: Buffer[] = []
    p.origin.on('data', (d: Buffer) => got.push(d))
    p.origin.on('end', () => p.origin.end(Buffer.from(`got ${Buffer.concat(got).length}`)))
    const reply: Buffer[] = []
    p.client.on('data', (d: Buffer) => reply.push(d))
    const clientEnded = new Promise<void>((r) => p.client.on('end', r))
    p.client.end(request)
    await clientEnded
    expect(Buffer.concat(reply).toString()).toBe(`got ${request.length}`)
    p.client.end()
    const r = await done
    expect(r.up).toBe(request.length)
    expect(r.down).toBe(`got ${request.length}`.length)
    expect(r.error).toBeUndefined()
    await p.close()
  })

  it('turns an upstream reset into a reset of the client', async () => {
    const p = await pairs()
    const done = splice(p.proxySide, p.upstream)
    const clientErr = new Promise<string>((r) => p.client.on('error', (e: NodeJS.ErrnoException) => r(e.code ?? e.message)))
    p.client.write('hello')
    await new Promise<void>((r) => p.origin.once('data', () => r()))
    ;(p.origin as unknown as { resetAndDestroy(): void }).resetAndDestroy()
    expect(await clientErr).toBe('ECONNRESET')
    const r = await done
    expect(r.error).toBeDefined()
    await p.close()
  })
})

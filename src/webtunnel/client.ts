// The WebTunnel client: TCP to the url's host (never the bridge line's placeholder address), TLS
// with the SNI from servername= (verified against a CA, or against a cert= pin instead), the
// official upgrade request, then nothing until exactly "101 Switching Protocols" with the right
// fields has arrived — no pipelining, because the official server drops bytes that arrive with
// the head. After that the stream is raw: the caller (tor's link TLS) writes straight into it,
// with no WebSocket framing.

import type { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import { connectTls } from '../tls/connect.js'
import { isTruncated, equalBytes, concatBytes, WireError } from '../wire/bytes.js'
import { isIpv4Text, isIpv6Text } from '../wire/socks/address.js'
import { NetError, type World } from '../net/world.js'
import { certChainHash } from './cert-pin.js'
import type { WebTunnelClientConfig } from './client-config.js'
import { checkUpgradeResponse, encodeUpgradeRequest } from './upgrade.js'

export interface WebTunnelDialOptions {
  /** PEM CA certificate(s) to trust instead of the bundled roots (the lab CA). */
  ca?: string | Buffer | undefined
  /** Give up when TLS + upgrade have not finished in this long (default 30 s). */
  timeoutMs?: number | undefined
}

export class WebTunnelError extends Error {
  override readonly name = 'WebTunnelError'
}

/**
 * Resolves with the raw tunnel once the server's 101 has been read. The stream is paused (so no
 * byte is lost between the 101 and its consumer): pipe() it or resume() it.
 */
export async function dialWebTunnel(world: World, config: WebTunnelClientConfig, options: WebTunnelDialOptions = {}): Promise<Duplex> {
  const timeoutMs = options.timeoutMs ?? 30_000
  let stream: Duplex = await world.net.connect(config.dialHost, config.dialPort)
  const timer = world.setTimer(timeoutMs, () => stream.destroy(new NetError('ETIMEDOUT', `WebTunnel: no upgrade within ${timeoutMs} ms`)))
  try {
    if (config.tls) stream = await secure(world, stream, config, options)
    world.trace('webtunnel-client-upgrade', { host: config.httpHost, path: config.path })
    stream.write(encodeUpgradeRequest({ host: config.httpHost, path: config.path }))
    const leftover = await readUpgradeResponse(stream)
    // Anything the server sent after its 101 already belongs to the tunnel.
    if (leftover.length > 0) stream.unshift(leftover)
    return stream
  } catch (e) {
    stream.destroy()
    throw e
  } finally {
    timer.cancel()
  }
}

async function secure(world: World, conn: Duplex, config: WebTunnelClientConfig, options: WebTunnelDialOptions): Promise<TLSSocket> {
  const ipLiteral = isIpv4Text(config.serverName) || isIpv6Text(config.serverName)
  const pinned = config.certChainPin !== undefined
  const socket = await connectTls(world, conn, {
    ...(ipLiteral ? {} : { servername: config.serverName }),
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    // With a pin the chain is checked below instead of against a CA (lyrebird's AllowInsecure+pin).
    rejectUnauthorized: !pinned,
    // Node checks the name against `servername`, which an IP literal cannot be sent as.
    ...(ipLiteral && !pinned ? { checkServerIdentity: (_h: string, cert: import('node:tls').PeerCertificate) => (cert.subjectaltname?.split(', ').includes(`IP Address:${config.serverName}`) ? undefined : new Error(`certificate is not for ${config.serverName}`)) } : {}),
  })
  if (pinned) {
    const chain = peerChain(socket)
    if (!equalBytes(certChainHash(chain), config.certChainPin!)) {
      socket.destroy()
      throw new WebTunnelError('WebTunnel: server certificate chain does not match the cert= pin')
    }
  }
  return socket
}

/** DER certificates leaf first, as node reports the peer's chain. */
function peerChain(socket: TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = []
  let c = socket.getPeerCertificate(true)
  while (c && c.raw && out.length < 10) {
    out.push(new Uint8Array(c.raw))
    const next = c.issuerCertificate
    if (!next || next === c || next.raw?.equals(c.raw)) break
    c = next
  }
  return out
}

function readUpgradeResponse(stream: Duplex): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let buf: Uint8Array = new Uint8Array(0)
    const done = (err: Error | undefined, leftover?: Uint8Array) => {
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('error', onError)
      stream.off('close', onEnd)
      stream.pause()
      if (err) reject(err)
      else resolve(leftover!)
    }
    const onData = (chunk: Buffer) => {
      buf = concatBytes(buf, chunk)
      try {
        const { used } = checkUpgradeResponse(buf)
        done(undefined, buf.slice(used))
      } catch (e) {
        if (isTruncated(e)) return
        done(e instanceof WireError ? new WebTunnelError(`WebTunnel upgrade failed: ${e.message}`) : (e as Error))
      }
    }
    const onEnd = () => done(new WebTunnelError('WebTunnel: connection closed before the 101'))
    const onError = (e: Error) => done(e)
    stream.on('data', onData)
    stream.once('end', onEnd)
    stream.once('close', onEnd)
    stream.once('error', onError)
  })
}

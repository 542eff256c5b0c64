// The WebTunnel HTTP upgrade, both sides, byte-compatible with the official Go transport
// (transport/httpupgrade/httpupgrade.go, written with Go's net/http; facts read from it):
//
// client → GET /<path> HTTP/1.1            server → HTTP/1.1 101 Switching Protocols
//          Host: <url host>                          Connection: upgrade
//          User-Agent: Go-http-client/1.1            Upgrade: websocket
//          Connection: upgrade                       (empty line)
//          Upgrade: websocket
//          (empty line)
//
// (Go's Request.Write puts Host, then its default User-Agent, then the other fields sorted by
// name; Response.Write sends no Content-Length for a 1xx.) No Sec-WebSocket-Key, no -Accept: this
// is not a WebSocket, and after the 101 both directions are raw bytes with no framing.

import { WireError } from '../wire/bytes.js'
import {
  encodeRequestHead,
  isUpgrade,
  parseRequestHead,
  parseResponseHead,
  type HeadLimits,
  type RequestHead,
  type ResponseHead,
} from '../wire/http/index.js'
import { isIpv4Text, isIpv6Text } from '../wire/socks/address.js'

/** The official client's User-Agent (Go's net/http default); kept so ours looks the same. */
export const GO_USER_AGENT = 'Go-http-client/1.1'

export interface UpgradeTarget {
  /** Host field value: the url's host, with ":port" when the port is not the scheme's default. */
  host: string
  /** Absolute path from the url ("/secret-path"); "/" when the url has none. */
  path: string
}

export function encodeUpgradeRequest(t: UpgradeTarget): Uint8Array {
  if (!t.path.startsWith('/')) throw new WireError('bad-value', `WebTunnel upgrade: path ${JSON.stringify(t.path)} is not absolute`)
  return encodeRequestHead({
    method: 'GET',
    target: t.path,
    version: 'HTTP/1.1',
    headers: [
      ['Host', t.host],
      ['User-Agent', GO_USER_AGENT],
      ['Connection', 'upgrade'],
      ['Upgrade', 'websocket'],
    ],
  })
}

/** The official server's 101, byte for byte. */
export const UPGRADE_RESPONSE: Uint8Array = new TextEncoder().encode(
  'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
)

/** Heads are small; a peer that sends more before the empty line is not a WebTunnel peer. */
export const UPGRADE_HEAD_LIMITS: Partial<HeadLimits> = { maxHeadBytes: 8 * 1024, maxHeaders: 64, maxLineBytes: 4 * 1024 }

export type UpgradeRequestVerdict =
  | {
      kind: 'upgrade'
      head: RequestHead
      /** Where the head ends. Bytes after it arrived before our 101 (see server.ts on pipelining). */
      used: number
      /** First X-Forwarded-For entry when it is an IP address (the official server's choice). */
      forwardedFor: string | undefined
    }
  /** A well-formed request that is not ours: answer it like an ordinary web server. */
  | { kind: 'ordinary'; head: RequestHead; used: number; reason: string }

/**
 * Judges one request head at the front of `buf`. Throws WireError: `truncated` until the head is
 * complete, anything else for a malformed head. A WebTunnel upgrade is GET, HTTP/1.1, on `path`
 * when one is configured (query ignored), with Connection listing "upgrade" and Upgrade listing
 * "websocket" (case-insensitive, as the official server compares them).
 */
export function checkUpgradeRequest(buf: Uint8Array, options: { path?: string | undefined } = {}): UpgradeRequestVerdict {
  const { head, used } = parseRequestHead(buf, UPGRADE_HEAD_LIMITS)
  const ordinary = (reason: string): UpgradeRequestVerdict => ({ kind: 'ordinary', head, used, reason })
  if (head.method !== 'GET') return ordinary(`method ${head.method}`)
  if (head.version !== 'HTTP/1.1') return ordinary(`version ${head.version}`)
  if (options.path !== undefined) {
    const q = head.target.indexOf('?')
    const path = q < 0 ? head.target : head.target.slice(0, q)
    if (path !== options.path) return ordinary('not the secret path')
  }
  if (!isUpgrade(head, 'websocket')) return ordinary('no Connection: upgrade / Upgrade: websocket')
  return { kind: 'upgrade', head, used, forwardedFor: firstForwardedFor(head) }
}

function firstForwardedFor(head: RequestHead): string | undefined {
  const first = head.get('x-forwarded-for')?.split(',')[0]?.trim()
  if (first === undefined) return undefined
  return isIpv4Text(first) || isIpv6Text(first) ? first : undefined
}

/**
 * The client's check of the answer, as the official client makes it: status line exactly
 * "101 Switching Protocols", first Upgrade value "websocket" and first Connection value "upgrade"
 * (case-insensitive). `used` is where the tunnelled bytes begin.
 */
export function checkUpgradeResponse(buf: Uint8Array): { head: ResponseHead; used: number } {
  const { head, used } = parseResponseHead(buf, UPGRADE_HEAD_LIMITS)
  if (head.status !== 101 || head.reason !== 'Switching Protocols') {
    throw new WireError('bad-value', `WebTunnel upgrade refused: ${head.status} ${head.reason}`)
  }
  const upgrade = head.getAll('upgrade')[0]?.toLowerCase()
  const connection = head.getAll('connection')[0]?.toLowerCase()
  if (upgrade !== 'websocket' || connection !== 'upgrade') {
    throw new WireError('bad-value', 'WebTunnel upgrade: 101 without Upgrade: websocket / Connection: upgrade')
  }
  return { head, used }
}

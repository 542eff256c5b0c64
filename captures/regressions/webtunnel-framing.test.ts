// The WebTunnel framing regression, as a capture (recorded by webtunnel-framing.record.ts on
// loopback; our server in front of a node:tls "bridge"). Replayed through our pcap reader and TCP
// reassembly, and the recorded requests through the same upgrade check the server runs:
//   flow pair 1 — our client: after the 101 a bare TLS ClientHello (0x16 0x03), the bridge answers;
//   flow pair 2 — the original bug: after the 101 a WebSocket frame (0x82, masked) that the server
//                 passes to the bridge byte for byte, and the bridge never answers;
//   flow pair 3 — a ClientHello pipelined with the request: the 101 comes, the bridge gets nothing.

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { readCapture } from '../../src/wire/pcap/capture.js'
import { reassembleCapture } from '../../src/wire/pcap/reassemble-capture.js'
import type { TcpFlow } from '../../src/wire/pcap/tcp-reassembly.js'
import { checkUpgradeRequest, UPGRADE_RESPONSE } from '../../src/webtunnel/upgrade.js'

const SERVER_PORT = 18081
const BRIDGE_PORT = 18082
const capture = readCapture(new Uint8Array(readFileSync(new URL('./webtunnel-framing.pcap', import.meta.url))))
const { flows } = reassembleCapture(capture)
const firstTs = (f: TcpFlow) => {
  const ts = f.toServer.chunks[0]?.ts ?? f.toClient.chunks[0]?.ts
  return ts ? ts.sec * 1e9 + ts.nsec : Infinity
}
const byPort = (port: number) => flows.filter((f) => f.server.port === port).sort((a, b) => firstTs(a) - firstTs(b))
const clientFlows = byPort(SERVER_PORT)
const bridgeFlows = byPort(BRIDGE_PORT)

/** What the client sent after its request head, judged by the server's own check. */
function afterHead(f: TcpFlow): Uint8Array {
  const v = checkUpgradeRequest(f.toServer.bytes, { path: '/s' })
  expect(v.kind).toBe('upgrade')
  return f.toServer.bytes.subarray(v.used)
}

describe('captures/regressions/webtunnel-framing', () => {
  it('has three client connections and three bridge connections, all answered with the official 101', () => {
    expect(clientFlows).toHaveLength(3)
    expect(bridgeFlows).toHaveLength(3)
    for (const f of clientFlows) expect(Buffer.from(f.toClient.bytes.subarray(0, UPGRADE_RESPONSE.length))).toEqual(Buffer.from(UPGRADE_RESPONSE))
  })

  it('ours: raw TLS after the 101, carried unchanged, and the bridge answers with TLS', () => {
    const sent = afterHead(clientFlows[0])
    expect([sent[0], sent[1], sent[5]]).toEqual([0x16, 0x03, 0x01])
    expect(Buffer.from(bridgeFlows[0].toServer.bytes)).toEqual(Buffer.from(sent))
    expect([bridgeFlows[0].toClient.bytes[0], bridgeFlows[0].toClient.bytes[5]]).toEqual([0x16, 0x02]) // ServerHello
  })

  it('the bug: a WebSocket frame after the 101 reaches the bridge byte for byte, and the bridge never answers', () => {
    const sent = afterHead(clientFlows[1])
    expect(sent[0]).toBe(0x82) // FIN + binary
    expect(sent[1] & 0x80).toBe(0x80) // masked, as client frames must be
    expect(Buffer.from(bridgeFlows[1].toServer.bytes)).toEqual(Buffer.from(sent))
    expect(bridgeFlows[1].toClient.bytes.length).toBe(0)
    expect(clientFlows[1].toClient.bytes.length).toBe(UPGRADE_RESPONSE.length)
  })

  it('pipelined: the ClientHello arrived with the head, the 101 went out, and the bridge got none of it', () => {
    const sent = afterHead(clientFlows[2])
    expect([sent[0], sent[5]]).toEqual([0x16, 0x01])
    // It really was pipelined: head and ClientHello in the same TCP segment.
    expect(clientFlows[2].toServer.chunks[0].length).toBe(clientFlows[2].toServer.bytes.length)
    expect(bridgeFlows[2].toServer.bytes.length).toBe(0)
    expect(clientFlows[2].toClient.bytes.length).toBe(UPGRADE_RESPONSE.length)
  })
})

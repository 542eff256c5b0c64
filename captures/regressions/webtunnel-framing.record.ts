// Records captures/regressions/webtunnel-framing.pcap: on loopback, our WebTunnel server (plain
// HTTP, no outer TLS, so the capture reads without a key log) in front of a node:tls "bridge",
// and three clients one after another:
//   1. ours (dialWebTunnel, then a TLS client over the raw tunnel);
//   2. the original bug: a TLS client whose bytes are wrapped in WebSocket frames after the 101;
//   3. a client that pipelines its ClientHello in the same write as the upgrade request.
// Run: npx tsx captures/regressions/webtunnel-framing.record.ts   (needs tcpdump and root)
// Only 127.0.0.1 is touched.

import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import * as net from 'node:net'
import { join } from 'node:path'
import * as tls from 'node:tls'
import { fileURLToPath } from 'node:url'
import { liveWorld } from '../../src/net/live/world.js'
import { clientConfigFromArgs } from '../../src/webtunnel/client-config.js'
import { dialWebTunnel } from '../../src/webtunnel/client.js'
import { listenWebTunnel } from '../../src/webtunnel/server.js'
import { encodeUpgradeRequest } from '../../src/webtunnel/upgrade.js'
import { captureClientHello, framingDuplex } from '../../lab/webtunnel/misbehaving-clients.js'

export const SERVER_PORT = 18081
export const BRIDGE_PORT = 18082
export const PATH = '/s'

const here = fileURLToPath(new URL('.', import.meta.url))
const fixtures = join(here, '../../lab/fixtures')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function main(): Promise<void> {
  // tcpdump is ours: stop it even if a step below fails.
  let dumpPid: number | undefined
  process.on('exit', () => dumpPid !== undefined && process.kill(dumpPid, 'SIGINT'))
  const out = join(here, 'webtunnel-framing.pcap')
  const dump = spawn('tcpdump', ['-Z', 'root', '-i', 'lo', '-U', '--immediate-mode', '-w', out, `tcp port ${SERVER_PORT} or tcp port ${BRIDGE_PORT}`], { stdio: ['ignore', 'ignore', 'pipe'] })
  dumpPid = dump.pid
  await new Promise<void>((r) => dump.stderr!.on('data', (b: Buffer) => b.toString().includes('listening') && r()))
  const bridge = tls.createServer({ cert: readFileSync(join(fixtures, 'server.crt')), key: readFileSync(join(fixtures, 'server.key')) }, (s) => {
    s.on('error', () => {})
    s.pipe(s)
  })
  bridge.on('tlsClientError', () => {})
  await new Promise<void>((r) => bridge.listen(BRIDGE_PORT, '127.0.0.1', () => r()))
  const world = liveWorld()
  const server = await listenWebTunnel(world, SERVER_PORT, { bridge: { host: '127.0.0.1', port: BRIDGE_PORT }, path: PATH })

  // 1. ours
  const tunnel = await dialWebTunnel(world, clientConfigFromArgs([['url', `http://127.0.0.1:${SERVER_PORT}${PATH}`]]))
  const good = tls.connect({ socket: tunnel, rejectUnauthorized: false, servername: 'bridge.lab.test' })
  await new Promise((r, j) => good.once('secureConnect', r).once('error', j))
  good.end('ping')
  await sleep(300)
  good.destroy()
  await sleep(200)

  // 2. framed after the 101
  const raw = net.connect(SERVER_PORT, '127.0.0.1')
  await new Promise((r) => raw.once('connect', r))
  raw.write(encodeUpgradeRequest({ host: '127.0.0.1', path: PATH }))
  await new Promise((r) => raw.once('data', r))
  const bad = tls.connect({ socket: framingDuplex(raw, Uint8Array.of(0x12, 0x34, 0x56, 0x78)), rejectUnauthorized: false, servername: 'bridge.lab.test' })
  bad.on('error', () => {})
  await sleep(1000)
  raw.destroy()
  await sleep(200)

  // 3. pipelined ClientHello
  const hello = await captureClientHello('bridge.lab.test')
  const pipe = net.connect(SERVER_PORT, '127.0.0.1')
  await new Promise((r) => pipe.once('connect', r))
  pipe.write(Buffer.concat([encodeUpgradeRequest({ host: '127.0.0.1', path: PATH }), hello]))
  await sleep(1000)
  pipe.destroy()
  await sleep(300)

  dump.kill('SIGINT')
  await new Promise((r) => dump.once('exit', r))
  dumpPid = undefined
  await server.close()
  bridge.close()
  process.stdout.write(`wrote ${out}\n`)
}

await main()

// The censorship lab's cast on a netns topology (topology.ts): nginx in the server namespace
// (blocked.example and allowed.example with lab-CA certificates, a 50 MB file, a P-256 copy of
// blocked.example on :8443 for Chromium), `sultry oob-server` in the helper namespace, and one
// `sultry proxy` per strategy in the client namespace. The censor is the caller's business.

import { createHash, createPublicKey } from 'node:crypto'
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { labSite } from '../fixtures/index.js'
import { nginxArgs } from '../peers/nginx.js'
import { makeLabCa } from '../peers/pki.js'
import { type Peer, repoRoot, startProcess, tempDir } from '../peers/process.js'
import { buildTopology, type Topology, waitForPortIn } from './topology.js'

export const strategies = ['direct', 'tcp-split', 'record-split', 'oob-relay'] as const
export type Strategy = (typeof strategies)[number]
export const proxyPort: Record<Strategy, number> = { direct: 8080, 'tcp-split': 8081, 'record-split': 8082, 'oob-relay': 8083 }
export const bigSize = 50 * 1024 * 1024
export const caFile = join(repoRoot, 'lab', 'fixtures', 'lab-ca.crt')

export interface CurlResult {
  code: number
  stdout: Buffer
  stderr: string
}

export interface CensorLab {
  topo: Topology
  dir: string
  marker: { blocked: string; allowed: string }
  bigSha: string
  /** base64 SHA-256 of the P-256 blocked.example key (Chromium's --ignore-certificate-errors-spki-list). */
  spki: string
  /** curl inside a namespace. */
  curlIn(ns: string, args: string[], maxTimeS: number): Promise<CurlResult>
  /** curl in the client namespace through the proxy running strategy `s`, trusting the lab CA. */
  viaProxy(s: Strategy, url: string, maxTimeS?: number): Promise<CurlResult>
  /** Runs a program inside a namespace until it exits or `timeoutMs`; stdout and stderr. */
  runIn(ns: string, cmd: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }>
  /** A long-running process inside a namespace, stopped by stop(). */
  startIn(ns: string, cmd: string, args: string[], ready: RegExp | undefined, port: number): Promise<Peer>
  /** Destroys the client's sockets to the origin (a dropped ClientHello is retransmitted for seconds). */
  forgetClientFlows(): void
  stop(): Promise<void>
}

export async function startCensorLab(): Promise<CensorLab> {
  const topo = buildTopology()
  const dir = tempDir('sultry-netns-')
  const fixtures = join(repoRoot, 'lab', 'fixtures')
  const keyFile = join(dir, 'psk.hex')
  const marker = { blocked: `blocked page ${process.pid}-${Date.now()}`, allowed: `allowed page ${process.pid}-${Date.now()}` }
  const peers: Peer[] = []
  let bigSha = ''
  let spki = ''
  const inNs = (ns: string, cmd: string, args: string[], ready: RegExp | undefined, port: number): Promise<Peer> => {
    const [c, a] = topo.argv(ns, cmd, args)
    return startProcess(c, a, { ready, port, timeoutMs: 30_000 }).then((p) => (peers.push(p), p))
  }
  const runIn = (ns: string, cmd: string, args: string[], timeoutMs: number) =>
    new Promise<{ stdout: string; stderr: string; out: Buffer }>((resolve) => {
      const [c, a] = topo.argv(ns, cmd, args)
      const p = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] })
      const out: Buffer[] = []
      let stderr = ''
      p.stdout.on('data', (d: Buffer) => out.push(d))
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
      p.on('close', () => (clearTimeout(t), resolve({ stdout: Buffer.concat(out).toString(), stderr, out: Buffer.concat(out) })))
    })
  const curlIn = (ns: string, args: string[], maxTimeS: number): Promise<CurlResult> =>
    new Promise((resolve) => {
      const p = topo.spawn(ns, 'curl', ['-sS', '--max-time', String(maxTimeS), ...args])
      const out: Buffer[] = []
      let err = ''
      p.stdout!.on('data', (d: Buffer) => out.push(d))
      p.stderr!.on('data', (d: Buffer) => (err += d.toString()))
      p.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }))
    })
  const stop = async () => {
    for (const p of peers) await p.kill()
    topo.teardown()
    rmSync(dir, { recursive: true, force: true })
  }
  try {

    const { server, helper, client } = topo.ns
    const { addr } = topo

    // Origins: nginx in the server namespace, one lab-CA site per name; a P-256 copy of
    // blocked.example on :8443 for Chromium (which refuses the Ed25519 lab certificates).
    for (const name of ['blocked.example', 'allowed.example'] as const) {
      const site = labSite(name)
      mkdirSync(join(dir, name))
      writeFileSync(join(dir, `${name}.crt`), site.cert)
      writeFileSync(join(dir, `${name}.key`), site.key)
    }
    writeFileSync(join(dir, 'blocked.example', 'index.html'), `<!doctype html><html><body><p id="m">${marker.blocked}</p></body></html>\n`)
    writeFileSync(join(dir, 'allowed.example', 'index.html'), `<!doctype html><html><body><p id="m">${marker.allowed}</p></body></html>\n`)
    const big = Buffer.alloc(bigSize)
    for (let i = 0; i < big.length; i += 4) big.writeUInt32BE((i * 2654435761) >>> 0, i)
    writeFileSync(join(dir, 'blocked.example', 'big.bin'), big)
    bigSha = createHash('sha256').update(big).digest('hex')
    const p256Dir = join(dir, 'p256')
    mkdirSync(p256Dir)
    const p256 = makeLabCa(p256Dir, { names: ['blocked.example'] })
    spki = createHash('sha256').update(createPublicKey(p256.certPem).export({ type: 'spki', format: 'der' })).digest('base64')
    const site = (listen: string, name: string, crt: string, key: string) => `
    server {
      listen ${listen} ssl;
      server_name ${name};
      ssl_certificate ${crt};
      ssl_certificate_key ${key};
      ssl_protocols TLSv1.2 TLSv1.3;
      root ${join(dir, name)};
    }`
    const http = [
      site(`${addr.server}:443`, 'blocked.example', join(dir, 'blocked.example.crt'), join(dir, 'blocked.example.key')),
      site(`${addr.server}:443`, 'allowed.example', join(dir, 'allowed.example.crt'), join(dir, 'allowed.example.key')),
      site(`${addr.server}:8443`, 'blocked.example', p256.certFile, p256.keyFile),
    ].join('\n')
    await inNs(server, 'nginx', nginxArgs({ prefix: dir, http }), undefined, 443)
    await waitForPortIn(topo, client, addr.server, 443)

    // The OOB helper beyond the censor, with the cover.example certificate.
    writeFileSync(keyFile, 'c3'.repeat(32) + '\n')
    const h = await inNs(
      helper,
      'node',
      [join(repoRoot, 'bin', 'sultry.js'), 'oob-server', '--listen', `${addr.helper}:8443`, '--key', keyFile, '--cert', join(fixtures, 'cover.example.crt'), '--key-file', join(fixtures, 'cover.example.key'), '--allow-private', '--map', `blocked.example=${addr.server}`, '--map', `allowed.example=${addr.server}`],
      /pin: [0-9a-f]{64}/,
      8443,
    )
    const pin = /pin: ([0-9a-f]{64})/.exec(h.output())![1]

    // One `sultry proxy` per strategy in the client namespace.
    await Promise.all(
      strategies.map((s) =>
        inNs(
          client,
          'node',
          [join(repoRoot, 'bin', 'sultry.js'), 'proxy', '--listen', `127.0.0.1:${proxyPort[s]}`, '--strategy', s, '--map', `blocked.example=${addr.server}`, '--map', `allowed.example=${addr.server}`,
            ...(s === 'oob-relay' ? ['--oob', `${addr.helper}:8443`, '--oob-key', keyFile, '--oob-cover-sni', 'cover.example', '--oob-pin', pin] : [])],
          /listening/,
          proxyPort[s],
        ),
      ),
    )
  } catch (e) {
    await stop()
    throw e
  }
  return {
    topo,
    dir,
    marker,
    bigSha,
    spki,
    curlIn,
    viaProxy: (s, url, maxTimeS = 20) => curlIn(topo.ns.client, ['--cacert', caFile, '-x', `http://127.0.0.1:${proxyPort[s]}`, url], maxTimeS),
    runIn: (ns, cmd, args, timeoutMs) => runIn(ns, cmd, args, timeoutMs),
    startIn: inNs,
    forgetClientFlows: () => {
      try {
        topo.exec(topo.ns.client, 'ss', ['-K', 'dst', topo.addr.server])
      } catch {
        // ss -K reports an error when a matched socket cannot be destroyed (e.g. TIME_WAIT): harmless
      }
    },
    stop,
  }
}

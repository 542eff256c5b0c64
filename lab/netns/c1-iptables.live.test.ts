// C1 live: an on-path censor that is one iptables rule on a real router namespace
// (`-m string --algo bm --string blocked.example`, per-packet, no reassembly — notes §10), with
// real `sultry proxy` / `sultry oob-server` processes, nginx and curl in their own namespaces.
// direct is blocked (and the rule's counter proves the censor saw the SNI); tcp-split,
// record-split and oob-relay fetch the page with the rule's counter still at zero.

import { createHash, createPublicKey } from 'node:crypto'
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { labSite } from '../fixtures/index.js'
import { makeLabCa, type Peer, repoRoot, startProcess, tempDir } from '../../src/proxy/testkit/peers.js'
import { buildTopology, type Topology, waitForPortIn } from './topology.js'

const dir = tempDir('sultry-netns-')
const fixtures = join(repoRoot, 'lab', 'fixtures')
const caFile = join(fixtures, 'lab-ca.crt')
const keyFile = join(dir, 'psk.hex')
const marker = { blocked: `blocked page ${process.pid}-${Date.now()}`, allowed: `allowed page ${process.pid}-${Date.now()}` }
const strategies = ['direct', 'tcp-split', 'record-split', 'oob-relay'] as const
type Strategy = (typeof strategies)[number]
const proxyPort: Record<Strategy, number> = { direct: 8080, 'tcp-split': 8081, 'record-split': 8082, 'oob-relay': 8083 }
const bigSize = 50 * 1024 * 1024
let bigSha = ''
let spki = ''
let topo: Topology
const peers: Peer[] = []

function inNs(ns: string, cmd: string, args: string[], ready: RegExp | undefined, port: number): Promise<Peer> {
  const [c, a] = topo.argv(ns, cmd, args)
  return startProcess(c, a, { ready, port, timeoutMs: 30_000 }).then((p) => (peers.push(p), p))
}

function curlIn(ns: string, args: string[], maxTimeS: number): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const p = topo.spawn(ns, 'curl', ['-sS', '--max-time', String(maxTimeS), ...args])
    const out: Buffer[] = []
    let err = ''
    p.stdout!.on('data', (d: Buffer) => out.push(d))
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    p.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }))
  })
}

const viaProxy = (s: Strategy, url: string, maxTimeS = 20) => curlIn(topo.ns.client, ['--cacert', caFile, '-x', `http://127.0.0.1:${proxyPort[s]}`, url], maxTimeS)

/**
 * Installs C1 on the router's client-side interface, replacing any previous rule, counters at 0.
 * First it destroys the client's leftover sockets to the origin: a ClientHello that an earlier
 * DROP swallowed is still being retransmitted by the kernel (backoff up to many seconds after the
 * proxy closed it), and would land on the new rule's counter.
 */
function censor(action: 'DROP' | 'REJECT'): void {
  try {
    topo.exec(topo.ns.client, 'ss', ['-K', 'dst', topo.addr.server])
  } catch {
    // ss -K reports an error when a matched socket cannot be destroyed (e.g. TIME_WAIT): harmless
  }
  topo.exec(topo.ns.router, 'iptables', ['-F', 'FORWARD'])
  const target = action === 'DROP' ? ['-j', 'DROP'] : ['-j', 'REJECT', '--reject-with', 'tcp-reset']
  topo.exec(topo.ns.router, 'iptables', ['-A', 'FORWARD', '-i', topo.clientSideDev, '-p', 'tcp', '-m', 'string', '--algo', 'bm', '--string', 'blocked.example', ...target])
}

/** Packets the C1 rule has matched since it was installed. */
function censorHits(): number {
  const out = topo.exec(topo.ns.router, 'iptables', ['-L', 'FORWARD', '-v', '-n', '-x', '--line-numbers'])
  const line = out.split('\n').find((l) => /^1\s/.test(l) && /STRING match/.test(l))
  if (!line) throw new Error(`C1 rule not installed:\n${out}`)
  return Number(line.trim().split(/\s+/)[1])
}

beforeAll(async () => {
  topo = buildTopology()
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
  const p256 = makeLabCa(p256Dir, ['blocked.example'])
  spki = createHash('sha256').update(createPublicKey(p256.cert).export({ type: 'spki', format: 'der' })).digest('base64')
  mkdirSync(join(dir, 'tmp'))
  const site = (listen: string, name: string, crt: string, key: string) => `
  server {
    listen ${listen} ssl;
    server_name ${name};
    ssl_certificate ${crt};
    ssl_certificate_key ${key};
    ssl_protocols TLSv1.2 TLSv1.3;
    root ${join(dir, name)};
  }`
  writeFileSync(
    join(dir, 'nginx.conf'),
    `user root;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  ${site(`${addr.server}:443`, 'blocked.example', join(dir, 'blocked.example.crt'), join(dir, 'blocked.example.key'))}
  ${site(`${addr.server}:443`, 'allowed.example', join(dir, 'allowed.example.crt'), join(dir, 'allowed.example.key'))}
  ${site(`${addr.server}:8443`, 'blocked.example', join(p256Dir, 'leaf.crt'), join(p256Dir, 'leaf.key'))}
}
`,
  )
  await inNs(server, 'nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], undefined, 443)
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
}, 90_000)

afterAll(async () => {
  for (const p of peers) await p.kill()
  topo?.teardown()
  rmSync(dir, { recursive: true, force: true })
})

for (const action of ['DROP', 'REJECT'] as const) {
  describe(`C1 iptables -m string on the router, -j ${action}${action === 'REJECT' ? ' --reject-with tcp-reset' : ''}`, () => {
    it('direct: blocked.example fails and the rule matched its ClientHello; allowed.example passes (control)', async () => {
      censor(action)
      const ok = await viaProxy('direct', 'https://allowed.example/')
      expect(ok.stderr).toBe('')
      expect(ok.stdout.toString()).toContain(marker.allowed)
      expect(censorHits()).toBe(0)
      const blocked = await viaProxy('direct', 'https://blocked.example/', 5)
      expect(blocked.code).not.toBe(0)
      expect(blocked.stdout.toString()).not.toContain(marker.blocked)
      expect(censorHits()).toBeGreaterThan(0)
    }, 30_000)

    for (const s of ['tcp-split', 'record-split', 'oob-relay'] as const) {
      it(`${s}: returns the blocked.example page, and the rule never matched`, async () => {
        censor(action)
        const r = await viaProxy(s, 'https://blocked.example/')
        expect(r.stderr).toBe('')
        expect(r.stdout.toString()).toContain(marker.blocked)
        expect(censorHits()).toBe(0)
      }, 30_000)
    }
  })
}

describe('C1 (DROP) with bigger and realer clients', () => {
  it('a 50 MB file through oob-relay arrives with the same sha256', async () => {
    censor('DROP')
    const out = join(dir, 'big.out')
    const r = await viaProxy('oob-relay', 'https://blocked.example/big.bin', 60)
    expect(r.stderr).toBe('')
    writeFileSync(out, r.stdout)
    expect(r.stdout.length).toBe(bigSize)
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(bigSha)
    expect(censorHits()).toBe(0)
  }, 70_000)

  it('headless Chromium in the client namespace loads blocked.example through the proxy with oob-relay', async () => {
    censor('DROP')
    const profile = tempDir('sultry-netns-chromium-')
    const [c, a] = topo.argv(topo.ns.client, 'chromium', [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`, `--proxy-server=http://127.0.0.1:${proxyPort['oob-relay']}`, `--ignore-certificate-errors-spki-list=${spki}`, '--dump-dom', 'https://blocked.example:8443/',
    ])
    const { dom, stderr } = await new Promise<{ dom: string; stderr: string }>((resolve) => {
      const p = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] })
      let dom = ''
      let stderr = ''
      p.stdout.on('data', (d: Buffer) => (dom += d.toString()))
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      const t = setTimeout(() => p.kill('SIGKILL'), 50_000)
      p.on('close', () => (clearTimeout(t), resolve({ dom, stderr })))
    })
    rmSync(profile, { recursive: true, force: true })
    expect(dom, stderr.slice(-2000)).toContain(marker.blocked)
    expect(censorHits()).toBe(0)
  }, 60_000)
})

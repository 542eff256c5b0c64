// Builds and starts a private Tor network of Debian `tor` processes on 127.0.0.1 in a directory,
// waits until it works end to end, and stops exactly the processes it started (by recorded pid,
// checked against /proc/PID/cmdline so a reused pid is never signalled). Facts from the verified
// recipe ../shared/tools/tor-testnet.md; this is lab code, so it uses the real clock and processes.

import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync, appendFileSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as http from 'node:http'
import * as net from 'node:net'
import { join, resolve } from 'node:path'
import { controlCommands } from './control.js'
import { IP, NODES, isListed, isServer, portsOf, type NodeRole } from './layout.js'
import { torrcFor } from './torrc.js'

export interface TestnetOptions {
  /**
   * First port of the 100-port block the network uses (default 20000). 'auto' picks a block
   * between 21000 and 29900 whose 100 ports are all free (tests: parallel runs never collide).
   */
  basePort?: number | 'auto'
  /** Bound on each wait (default 120 s). */
  timeoutMs?: number
  /** Voting schedule (default 20 / 4 s, the recipe's stable choice). */
  votingInterval?: number
  voteDelay?: number
  /** Every tor exits within ~15 s once this pid is gone (default: this process). null: none. */
  ownerPid?: number | null
  /** Progress lines (default: dropped). */
  log?: (line: string) => void
  tor?: string
  gencert?: string
}

export interface TestnetRelay {
  nick: string
  role: NodeRole
  address: string
  orPort: number
  dirPort?: number
  controlPort: number
  dataDir: string
  /** RSA identity fingerprint, 40 upper-case hex. */
  fingerprint: string
  /** Ed25519 master identity, base64 without '='. */
  ed25519: string
  /** Current ntor onion key, base64 without '=' (as in "ntor-onion-key" lines). */
  ntorOnionKey: string
  v3ident?: string
  pid: number
}

export interface Testnet {
  dir: string
  basePort: number
  /** torrc DirAuthority values (without the keyword), one per authority. */
  authorities: string[]
  /** Every published relay (authorities included), in node order. */
  relays: TestnetRelay[]
  exits: TestnetRelay[]
  bridge: TestnetRelay
  /** torrc Bridge value: "127.0.0.1:PORT FINGERPRINT". */
  bridgeLine: string
  /** SOCKS port of the reference C tor client, and of the one that goes through the bridge. */
  socks: { host: string; port: number }
  bridgeSocks: { host: string; port: number }
  pids: Array<{ nick: string; pid: number }>
  /** ms from start() to each milestone. */
  timings: Record<string, number>
  /** Sends a control command to a node, returns the reply text. */
  control(nick: string, ...commands: string[]): Promise<string>
  /** SIGTERM one node's recorded pid (for exit-kill tests). */
  killNode(nick: string): Promise<void>
  /** SIGTERM exactly the recorded pids, SIGKILL after 10 s; resolves when they are gone. */
  stop(): Promise<void>
}

const MARKER = '.tornet'

function run(cmd: string, args: string[], stdin = ''): Promise<{ stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const p = execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`))
      else res({ stdout, stderr })
    })
    p.stdin?.end(stdin)
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Alive and its command line names this node's torrc (guards against pid reuse). */
export function pidIsOurs(pid: number, torrc: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').includes(torrc)
  } catch {
    return false
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = net.createServer()
    s.once('error', () => res(false))
    s.listen(port, IP, () => s.close(() => res(true)))
  })
}

function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = http.get(url, { timeout: timeoutMs }, (r) => {
      const chunks: Buffer[] = []
      r.on('data', (d) => chunks.push(d))
      r.on('end', () => res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1') }))
      r.on('error', rej)
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', rej)
  })
}

/** Stops the pids recorded in DIR/pids (usable from another process than the one that started). */
export async function stopRecorded(dir: string, log: (l: string) => void = () => {}): Promise<number> {
  const pidFile = join(dir, 'pids')
  if (!existsSync(pidFile)) return 0
  const killed: number[] = []
  for (const line of readFileSync(pidFile, 'utf8').split('\n')) {
    const [nick, pidText] = line.trim().split(/\s+/)
    const pid = Number(pidText)
    if (!nick || !Number.isInteger(pid)) continue
    if (!pidIsOurs(pid, join(dir, 'nodes', nick, 'torrc'))) continue
    try {
      process.kill(pid, 'SIGTERM')
      killed.push(pid)
    } catch {
      /* already gone */
    }
  }
  const until = Date.now() + 10_000
  while (killed.some((p) => existsSync(`/proc/${p}`)) && Date.now() < until) await sleep(100)
  for (const p of killed) {
    if (existsSync(`/proc/${p}`)) {
      try {
        process.kill(p, 'SIGKILL')
      } catch {
        /* gone meanwhile */
      }
    }
  }
  writeFileSync(pidFile, '')
  log(`stopped ${killed.length} tor process(es): ${killed.join(' ')}`)
  return killed.length
}

/**
 * Claims the 100-port block at `base` for this process: a claim file in the temp directory made
 * with O_EXCL, taken over only when the process that wrote it is gone. Test files run in parallel
 * processes; without a claim two of them can find the same block free and both start tor on it.
 */
const claimFile = (base: number) => join(tmpdir(), `sultry-testnet-ports-${base}.claim`)

function claimBlock(base: number): boolean {
  const file = claimFile(base)
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' })
    return true
  } catch {
    const holder = Number(readFileSync(file, 'utf8'))
    if (holder === process.pid) return true
    try {
      if (Number.isInteger(holder) && holder > 0) {
        process.kill(holder, 0)
        return false // its owner is alive
      }
    } catch {
      /* owner gone: take the block over */
    }
    writeFileSync(file, String(process.pid))
    return true
  }
}

/** Gives the block back, if this process holds it. */
export function releaseBlock(base: number): void {
  const file = claimFile(base)
  try {
    if (Number(readFileSync(file, 'utf8')) === process.pid) unlinkSync(file)
  } catch {
    /* never claimed */
  }
}

/** A 100-port block on 127.0.0.1 with every port free and claimed by us, starting at a pid-dependent offset. */
export async function findFreeBlock(): Promise<number> {
  const blocks = 90
  const start = (process.pid * 7) % blocks
  for (let i = 0; i < blocks; i++) {
    const base = 21000 + ((start + i) % blocks) * 100
    if (!claimBlock(base)) continue
    let free = true
    for (let p = base; p < base + 100 && free; p++) free = await portFree(p)
    if (free) return base
    releaseBlock(base)
  }
  throw new Error('no free 100-port block between 21000 and 29999')
}

export async function startTestnet(dirIn: string, opts: TestnetOptions = {}): Promise<Testnet> {
  const dir = resolve(dirIn)
  const base = opts.basePort === 'auto' ? await findFreeBlock() : (opts.basePort ?? 20000)
  const timeoutMs = opts.timeoutMs ?? 120_000
  const VI = opts.votingInterval ?? 20
  const VD = opts.voteDelay ?? 4
  const log = opts.log ?? (() => {})
  const TOR = opts.tor ?? '/usr/sbin/tor'
  const GENCERT = opts.gencert ?? '/usr/bin/tor-gencert'
  const ownerPid = opts.ownerPid === null ? undefined : (opts.ownerPid ?? process.pid)
  const t0 = Date.now()
  const timings: Record<string, number> = {}
  const mark = (what: string) => {
    timings[what] = Date.now() - t0
  }
  const deadline = t0 + timeoutMs
  const check = (what: string) => {
    if (Date.now() > deadline) throw new Error(`tor-testnet: timeout after ${timeoutMs} ms: ${what}`)
  }

  mkdirSync(dir, { recursive: true })
  if (!existsSync(join(dir, MARKER)) && readdirSync(dir).length > 0) throw new Error(`${dir} is not empty and has no ${MARKER} marker`)
  writeFileSync(join(dir, MARKER), '')
  await stopRecorded(dir, log) // leftovers of an earlier run: exactly those pids
  for (const { nick, role } of NODES) {
    const p = portsOf(base, nick)
    for (const port of [p.orPort, p.dirPort, p.controlPort, p.socksPort]) {
      if (port !== undefined && !(await portFree(port))) throw new Error(`port ${port} (${nick}, ${role}) is in use; choose another basePort`)
    }
  }

  const nodeDir = (nick: string) => join(dir, 'nodes', nick)
  // Keep identity keys from an earlier run, drop everything learned or cached.
  for (const { nick } of NODES) {
    const d = nodeDir(nick)
    mkdirSync(d, { recursive: true })
    chmodSync(d, 0o700)
    for (const f of readdirSync(d)) if (!['keys', 'fingerprint', 'fingerprint-ed25519'].includes(f)) rmSync(join(d, f), { recursive: true, force: true })
  }
  writeFileSync(join(dir, 'torrc-defaults'), '') // /etc/tor/torrc-defaults must never leak in
  writeFileSync(join(dir, 'empty'), '')
  writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n')
  writeFileSync(join(dir, 'pids'), '')

  // Keys, in parallel: authority v3 certificates and every server's relay keys.
  const jobs: Promise<unknown>[] = []
  for (const { nick, role } of NODES) {
    const d = nodeDir(nick)
    if (role === 'auth' && !existsSync(join(d, 'keys', 'authority_certificate'))) {
      mkdirSync(join(d, 'keys'), { recursive: true })
      jobs.push(
        run(GENCERT, ['--create-identity-key', '-m', '12', '-a', `${IP}:${portsOf(base, nick).dirPort}`, '-i', join(d, 'keys/authority_identity_key'),
          '-s', join(d, 'keys/authority_signing_key'), '-c', join(d, 'keys/authority_certificate'), '--passphrase-fd', '0']),
      )
    }
    if (isServer(role) && !(existsSync(join(d, 'fingerprint')) && existsSync(join(d, 'fingerprint-ed25519')))) {
      jobs.push(run(TOR, ['--defaults-torrc', join(dir, 'torrc-defaults'), '-f', '/dev/null', '--ignore-missing-torrc', '--DataDirectory', d, '--ORPort', '1', '--Nickname', nick, '--list-fingerprint']))
    }
  }
  await Promise.all(jobs)
  mark('keys')

  const info = new Map<string, Omit<TestnetRelay, 'pid'>>()
  for (const { nick, role } of NODES) {
    if (!isServer(role)) continue
    const d = nodeDir(nick)
    const p = portsOf(base, nick)
    const ntorFile = readFileSync(join(d, 'keys', 'secret_onion_key_ntor'))
    const r: Omit<TestnetRelay, 'pid'> = {
      nick,
      role,
      address: IP,
      orPort: p.orPort!,
      controlPort: p.controlPort,
      dataDir: d,
      fingerprint: readFileSync(join(d, 'fingerprint'), 'utf8').trim().split(/\s+/)[1],
      ed25519: readFileSync(join(d, 'fingerprint-ed25519'), 'utf8').trim().split(/\s+/)[1],
      // 32-byte header, 32-byte secret, 32-byte public (recipe §6).
      ntorOnionKey: ntorFile.subarray(ntorFile.length - 32).toString('base64').replace(/=+$/, ''),
    }
    if (role === 'auth') {
      r.dirPort = p.dirPort
      const cert = readFileSync(join(d, 'keys', 'authority_certificate'), 'utf8')
      r.v3ident = /^fingerprint (\S+)/m.exec(cert)![1]
    }
    info.set(nick, r)
  }
  const auths = NODES.filter((n) => n.role === 'auth').map((n) => info.get(n.nick)!)
  const authorities = auths.map((a) => `${a.nick} orport=${a.orPort} no-v2 v3ident=${a.v3ident} ${IP}:${a.dirPort} ${a.fingerprint}`)
  const exitsInfo = NODES.filter((n) => n.role === 'exit').map((n) => info.get(n.nick)!)
  const br = info.get('br0')!
  const bridgeLine = `${IP}:${br.orPort} ${br.fingerprint}`
  const listed = NODES.filter((n) => isListed(n.role))
  writeFileSync(join(dir, 'bwfile'), `${Math.floor(Date.now() / 1000)}\n` + listed.map((n) => `node_id=$${info.get(n.nick)!.fingerprint} bw=1000 nick=${n.nick}\n`).join(''))

  // First valid-after LEAD s after launch, so the votes (2*VD earlier) see every relay.
  const LEAD = Math.min(2 * VD + 6, VI)
  const ctx = {
    base,
    netDir: dir,
    nodeDir,
    dirAuthorityLines: authorities,
    exitFingerprints: exitsInfo.map((e) => e.fingerprint),
    bridgeLine,
    votingInterval: VI,
    voteDelay: VD,
    votingStartOffset: (Math.floor(Date.now() / 1000) + LEAD) % VI,
    ownerPid,
  }
  for (const { nick, role } of NODES) writeFileSync(join(nodeDir(nick), 'torrc'), torrcFor(nick, role, ctx))

  const pids: Array<{ nick: string; pid: number }> = []
  const stop = async () => {
    await stopRecorded(dir, log)
    if (opts.basePort === 'auto') releaseBlock(base)
  }
  const launch = async (nicks: string[]) => {
    await Promise.all(
      nicks.map(
        (nick) =>
          new Promise<void>((res, rej) => {
            const d = nodeDir(nick)
            // RunAsDaemon: this child forks the daemon and exits; the daemon's pid is in its PidFile.
            const child = spawn(TOR, ['--defaults-torrc', join(dir, 'torrc-defaults'), '-f', join(d, 'torrc')], { stdio: ['ignore', 'pipe', 'pipe'] })
            let out = ''
            child.stdout.on('data', (b) => (out += b))
            child.stderr.on('data', (b) => (out += b))
            child.on('error', rej)
            child.on('exit', (code) => {
              writeFileSync(join(d, 'launch.log'), out)
              if (code === 0) res()
              else rej(new Error(`tor ${nick} exited with ${code}: ${out.slice(-500)}`))
            })
          }),
      ),
    )
    for (const nick of nicks) {
      const d = nodeDir(nick)
      let pid = NaN
      for (let i = 0; i < 100 && !Number.isInteger(pid); i++) {
        try {
          pid = Number(readFileSync(join(d, 'pid'), 'utf8').trim())
        } catch {
          await sleep(100)
        }
      }
      if (!pidIsOurs(pid, join(d, 'torrc'))) throw new Error(`tor ${nick} did not start (see ${d}/notice.log)`)
      pids.push({ nick, pid })
      appendFileSync(join(dir, 'pids'), `${nick} ${pid}\n`)
    }
  }
  const control = (nick: string, ...commands: string[]) => controlCommands(portsOf(base, nick).controlPort, join(nodeDir(nick), 'control_auth_cookie'), commands)

  try {
    const servers = NODES.filter((n) => isServer(n.role)).map((n) => n.nick)
    const clients = NODES.filter((n) => !isServer(n.role)).map((n) => n.nick)
    mark('launch')
    await launch(servers)
    log(`${servers.length} servers up; waiting for a consensus listing all ${listed.length} relays`)
    // Each authority publishes at valid-after plus its own sub-second phase: wait for all three.
    for (;;) {
      check('consensus')
      const counts = await Promise.all(
        auths.map((a) =>
          httpGet(`http://${IP}:${a.dirPort}/tor/status-vote/current/consensus-microdesc`).then(
            (r) => (r.status === 200 ? r.body.split('\n').filter((l) => l.startsWith('r ')).length : 0),
            () => 0,
          ),
        ),
      )
      if (Math.min(...counts) >= listed.length) break
      await sleep(200)
    }
    mark('consensus')
    // SIGHUP resets the caches' download backoff so they fetch the consensus and microdescs now;
    // clients start only once every cache holds them, so their first attempt succeeds.
    const nonAuth = servers.filter((n) => NODES.find((x) => x.nick === n)!.role !== 'auth')
    for (const n of nonAuth) process.kill(pids.find((p) => p.nick === n)!.pid, 'SIGHUP')
    let pending = nonAuth
    while (pending.length) {
      check(`caches without all microdescs: ${pending.join(' ')}`)
      const still: string[] = []
      for (const n of pending) {
        const reply = await control(n, 'GETINFO md/all').catch(() => '')
        if (reply.split('\n').filter((l) => l.startsWith('ntor-onion-key')).length < listed.length) still.push(n)
      }
      pending = still
      if (pending.length) await sleep(200)
    }
    mark('caches')
    await launch(clients)
    for (const n of clients) {
      for (;;) {
        check(`${n} not bootstrapped`)
        let logText = ''
        try {
          logText = readFileSync(join(nodeDir(n), 'notice.log'), 'utf8')
        } catch {
          /* not yet written */
        }
        if (logText.includes('Bootstrapped 100%')) break
        await sleep(200)
      }
      mark(`${n}-bootstrapped`)
    }
    // End to end: SOCKS -> 3 hops -> exit -> 127.0.0.1. The target is the client's own ControlPort,
    // which answers any HTTP request with 501 (relay ports are refused: exits forbid re-entry).
    for (const n of clients) {
      const p = portsOf(base, n)
      for (;;) {
        check(`no end-to-end stream through ${n}`)
        const code = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '15', '--socks5-hostname', `${IP}:${p.socksPort}`, `http://${IP}:${p.controlPort}/`]).then(
          (r) => r.stdout.trim(),
          () => '',
        )
        if (code === '501') break
        await sleep(500)
      }
      mark(`${n}-stream`)
    }
  } catch (e) {
    log(`start failed (${(e as Error).message}); stopping what was started; logs stay in ${dir}/nodes/*/notice.log`)
    await stop()
    throw e
  }
  mark('ready')
  log(`network ready in ${timings.ready} ms`)

  const withPid = (r: Omit<TestnetRelay, 'pid'>): TestnetRelay => ({ ...r, pid: pids.find((p) => p.nick === r.nick)!.pid })
  const net: Testnet = {
    dir,
    basePort: base,
    authorities,
    relays: listed.map((n) => withPid(info.get(n.nick)!)),
    exits: exitsInfo.map(withPid),
    bridge: withPid(br),
    bridgeLine,
    socks: { host: IP, port: portsOf(base, 'c0').socksPort! },
    bridgeSocks: { host: IP, port: portsOf(base, 'bc0').socksPort! },
    pids,
    timings,
    control,
    async killNode(nick) {
      const p = pids.find((x) => x.nick === nick)
      if (!p || !pidIsOurs(p.pid, join(nodeDir(nick), 'torrc'))) return
      process.kill(p.pid, 'SIGTERM')
      const until = Date.now() + 10_000
      while (existsSync(`/proc/${p.pid}`) && Date.now() < until) await sleep(100)
    },
    stop: async () => {
      await stop()
    },
  }
  writeFileSync(join(dir, 'network.json'), JSON.stringify({ ...net, control: undefined, killNode: undefined, stop: undefined }, null, 2))
  return net
}

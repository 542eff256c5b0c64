// The live censorship lab: four network namespaces joined by veth pairs, every address and every
// iptables rule inside them, nothing on the host's own interfaces, routes or firewall.
//
//   client 10.77.1.2 ──veth── 10.77.1.1 router 10.77.2.1 ──veth── 10.77.2.2 server (nginx)
//                                       router 10.77.3.1 ──veth── 10.77.3.2 helper (oob-server)
//
// The router forwards (ip_forward=1) and is where a censor lives; `clientSideDev` is its interface
// towards the client, so a rule matched with `-i clientSideDev` censors only the client's uplink
// (the OOB helper reaches the server through the router too, but from outside the censor).
// Segmentation offloads are off on every veth so the segments a strategy writes reach the censor
// as written (notes/sni-censorship.md §10).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'

export interface Topology {
  /** Namespace names, all starting with `prefix` (sultry-<pid>-<4 hex>-). */
  ns: { client: string; router: string; server: string; helper: string }
  addr: { client: string; routerClientSide: string; routerServerSide: string; routerHelperSide: string; server: string; helper: string }
  /** The router's interface towards the client (censor rules match `-i` on it). */
  clientSideDev: string
  prefix: string
  /** Runs a command inside a namespace and returns its stdout; throws with stderr on failure. */
  exec(ns: string, cmd: string, args: string[], opts?: { timeoutMs?: number }): string
  /** Spawns a long-running process inside a namespace (`ip netns exec` execs in place: the pid is the program's). */
  spawn(ns: string, cmd: string, args: string[], opts?: { cwd?: string; env?: NodeJS.ProcessEnv }): ChildProcess
  /** `ip netns exec <ns>` prefix, for helpers that take a command line. */
  argv(ns: string, cmd: string, args: string[]): [string, string[]]
  /** Kills whatever still runs in the namespaces and deletes them. Idempotent, synchronous. */
  teardown(): void
}

export class NetnsUnavailableError extends Error {}

/** Throws a NetnsUnavailableError saying why, when this process cannot build namespaces. */
export function requireNetns(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new NetnsUnavailableError(`the netns lab needs root (uid ${process.getuid()}): it creates network namespaces, veth pairs and iptables rules inside them`)
  }
  for (const [cmd, args] of [['ip', ['netns', 'list']], ['iptables', ['-V']], ['ethtool', ['--version']]] as const) {
    try {
      execFileSync(cmd, [...args], { stdio: 'pipe', timeout: 10_000 })
    } catch (e) {
      throw new NetnsUnavailableError(`the netns lab needs \`${cmd} ${args.join(' ')}\` to work (iproute2, iptables, ethtool): ${(e as Error).message}`)
    }
  }
}

const run = (cmd: string, args: string[], timeoutMs = 15_000): string => {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs }).toString()
  } catch (e) {
    const err = e as Error & { stderr?: Buffer }
    throw new Error(`${cmd} ${args.join(' ')}: ${err.stderr?.toString().trim() || err.message}`)
  }
}

/** Deletes a namespace by name after killing the processes still inside it; silent when it is gone. */
function deleteNamespace(name: string): void {
  const listed = execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' }).toString()
  if (!listed.split('\n').some((l) => l.split(' ')[0] === name)) return
  let pids: number[] = []
  try {
    pids = execFileSync('ip', ['netns', 'pids', name], { stdio: 'pipe' }).toString().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    // no pids to list: nothing left running inside
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already exited
    }
  }
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe' })
  } catch {
    // raced with another teardown of the same name
  }
}

export function buildTopology(opts: { prefix?: string } = {}): Topology {
  requireNetns()
  const prefix = opts.prefix ?? `sultry-${process.pid}-${randomBytes(2).toString('hex')}-`
  const ns = { client: `${prefix}client`, router: `${prefix}router`, server: `${prefix}server`, helper: `${prefix}helper` }
  const addr = { client: '10.77.1.2', routerClientSide: '10.77.1.1', routerServerSide: '10.77.2.1', routerHelperSide: '10.77.3.1', server: '10.77.2.2', helper: '10.77.3.2' }
  let torn = false
  const teardown = (): void => {
    if (torn) return
    torn = true
    process.off('exit', teardown)
    for (const name of Object.values(ns)) deleteNamespace(name)
  }
  const topo: Topology = {
    ns,
    addr,
    clientSideDev: 'r-client',
    prefix,
    exec: (n, cmd, args, o) => run('ip', ['netns', 'exec', n, cmd, ...args], o?.timeoutMs),
    spawn: (n, cmd, args, o) => spawn('ip', ['netns', 'exec', n, cmd, ...args], { cwd: o?.cwd, env: o?.env, stdio: ['ignore', 'pipe', 'pipe'] }),
    argv: (n, cmd, args) => ['ip', ['netns', 'exec', n, cmd, ...args]],
    teardown,
  }
  process.on('exit', teardown)
  try {
    for (const name of Object.values(ns)) deleteNamespace(name) // a leftover of a crashed run with our pid
    for (const name of Object.values(ns)) {
      run('ip', ['netns', 'add', name])
      topo.exec(name, 'ip', ['link', 'set', 'lo', 'up'])
    }
    // Each pair is created directly inside its two namespaces: no device ever exists on the host.
    const link = (a: string, devA: string, ipA: string, b: string, devB: string, ipB: string) => {
      run('ip', ['link', 'add', 'name', devA, 'netns', a, 'type', 'veth', 'peer', 'name', devB, 'netns', b])
      for (const [n, dev, ip] of [[a, devA, ipA], [b, devB, ipB]]) {
        topo.exec(n, 'ethtool', ['-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off'])
        topo.exec(n, 'ip', ['addr', 'add', `${ip}/24`, 'dev', dev])
        topo.exec(n, 'ip', ['link', 'set', dev, 'up'])
      }
    }
    link(ns.client, 'c-router', addr.client, ns.router, 'r-client', addr.routerClientSide)
    link(ns.server, 's-router', addr.server, ns.router, 'r-server', addr.routerServerSide)
    link(ns.helper, 'h-router', addr.helper, ns.router, 'r-helper', addr.routerHelperSide)
    topo.exec(ns.client, 'ip', ['route', 'add', 'default', 'via', addr.routerClientSide])
    topo.exec(ns.server, 'ip', ['route', 'add', 'default', 'via', addr.routerServerSide])
    topo.exec(ns.helper, 'ip', ['route', 'add', 'default', 'via', addr.routerHelperSide])
    topo.exec(ns.router, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1'])
  } catch (e) {
    teardown()
    throw e
  }
  return topo
}

/** Waits until `ip:port` accepts a TCP connection from inside `fromNs`. */
export async function waitForPortIn(topo: Topology, fromNs: string, ip: string, port: number, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now()
  for (;;) {
    try {
      topo.exec(fromNs, 'bash', ['-c', `exec 3<>/dev/tcp/${ip}/${port}`], { timeoutMs: 3000 })
      return
    } catch (e) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`${ip}:${port} not reachable from ${fromNs}: ${(e as Error).message}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

// The simulated network: hosts, links, virtual TCP connections, one scheduler, one trace, one seed.
// Everything random is drawn from a named stream of the root seed (scheduler policy, each link
// direction's options and faults, each host's randomness), and every option the seed chose is
// reported by options(), so a run can be read and replayed from its seed alone.

import type { Conn } from '../world.js'
import { NetError } from '../world.js'
import { KeylogSink } from '../keylog.js'
import { SimConn } from './conn.js'
import { SimHost } from './host.js'
import { deriveLinkDirOptions, Link, type LinkDir, type LinkDirOptions, type PartitionMode } from './link.js'
import type { Middlebox, SynVerdict } from './middlebox.js'
import { Pipe, type FlowInfo, type PipeEnv, type WireObserver } from './pipe.js'
import { Rng } from './rng.js'
import { Scheduler, type RunOptions, type SchedulingPolicy } from './scheduler.js'
import { Trace } from './trace.js'

export interface SimNetworkOptions {
  seed: number
  /** Same-time task order; default: drawn from the seed. */
  policy?: SchedulingPolicy
  /** Keep every trace line in memory (for diffing two runs); the hash is kept regardless. */
  keepTrace?: boolean
  /** How long a connect (or a connection across a dropping partition) waits before ETIMEDOUT. */
  timeoutMs?: number
}

interface Flow {
  info: FlowInfo
  link: Link
  client: SimConn
  server: SimConn
  c2s: Pipe
  s2c: Pipe
  open: number
}

export class SimNetwork implements PipeEnv {
  readonly seed: number
  readonly rng: Rng
  readonly sched: Scheduler
  readonly trace: Trace
  readonly keylog = new KeylogSink()
  readonly observers: WireObserver[] = []
  readonly stats = { segments: 0, deliveries: 0, bytes: 0, connections: 0 }
  readonly timeoutMs: number
  private readonly hosts = new Map<string, SimHost>()
  private readonly links = new Map<string, Link>()
  private readonly flows = new Map<number, Flow>()
  private readonly connecting = new Map<number, string>()
  private nextFlow = 1
  private readonly extraOptions: Record<string, unknown> = {}

  constructor(opts: SimNetworkOptions | number) {
    const o = typeof opts === 'number' ? { seed: opts } : opts
    this.seed = o.seed
    this.rng = new Rng(o.seed)
    const policy = o.policy ?? (this.rng.stream('scheduler').chance(0.5) ? 'stack' : 'queue')
    this.sched = new Scheduler(policy)
    this.trace = new Trace(() => this.sched.now(), o.keepTrace ?? false)
    this.timeoutMs = o.timeoutMs ?? 20_000
    this.sched.describeWith(() => this.describeWaiting())
  }

  addHost(name: string, address?: string): SimHost {
    if (this.hosts.has(name)) throw new Error(`host "${name}" exists`)
    const addr = address ?? `10.0.0.${this.hosts.size + 1}`
    const h = new SimHost(this, name, addr, this.rng.stream(`host:${name}`))
    this.hosts.set(name, h)
    this.trace.line(`0 net host ${name} ${addr}`)
    return h
  }

  /** A host by name or address. */
  host(nameOrAddress: string): SimHost | undefined {
    const h = this.hosts.get(nameOrAddress)
    if (h) return h
    for (const x of this.hosts.values()) if (x.address === nameOrAddress) return x
    return undefined
  }

  /**
   * The link between two hosts, created on first use with options drawn from the seed (streams
   * named by the hosts, so creation order does not matter). `set` overrides options per direction.
   */
  link(a: string, b: string, set?: { ab?: Partial<LinkDirOptions>; ba?: Partial<LinkDirOptions> }): Link {
    const [x, y] = a <= b ? [a, b] : [b, a]
    const key = `${x}|${y}`
    let l = this.links.get(key)
    if (!l) {
      l = new Link(
        x,
        y,
        deriveLinkDirOptions(this.rng.stream(`link:${x}->${y}`)),
        deriveLinkDirOptions(this.rng.stream(`link:${y}->${x}`)),
        this.rng.stream(`faults:${x}->${y}`),
        this.rng.stream(`faults:${y}->${x}`),
      )
      this.links.set(key, l)
    }
    if (set) {
      const [fwd, rev] = a === x ? [set.ab, set.ba] : [set.ba, set.ab]
      if (fwd) l.ab.options = { ...l.ab.options, ...fwd }
      if (rev) l.ba.options = { ...l.ba.options, ...rev }
    }
    return l
  }

  /**
   * Puts a middlebox (a censor) on the link between hosts a and b; it sees every later connection
   * between them, both directions. Several boxes on one link act in the order they were added.
   */
  addMiddlebox(box: Middlebox, a: string, b: string): void {
    const l = this.link(a, b)
    l.middleboxes.push(box)
    this.trace.line(`${this.sched.now()} net middlebox ${box.name} ${a} ${b}`)
  }

  /** Records a scenario-chosen option so options() prints it with the network's own. */
  option(name: string, value: unknown): void {
    this.extraOptions[name] = value
  }

  /** Every option the seed chose (or a scenario set). */
  options(): Record<string, unknown> {
    const links: Record<string, unknown> = {}
    const middleboxes: Record<string, string[]> = {}
    for (const l of this.links.values()) {
      Object.assign(links, l.describe())
      if (l.middleboxes.length > 0) middleboxes[`${l.a}|${l.b}`] = l.middleboxes.map((m) => m.name)
    }
    const boxes = Object.keys(middleboxes).length > 0 ? { middleboxes } : {}
    return { seed: this.seed, policy: this.sched.policy, timeoutMs: this.timeoutMs, links, ...boxes, ...this.extraOptions }
  }

  traceHash(): string {
    return this.trace.digest()
  }

  run(opts?: RunOptions): Promise<void> {
    return this.sched.run(opts)
  }

  // ---- faults -------------------------------------------------------------------------------

  /** Buffers everything between a and b (both directions) until release(). */
  hold(a: string, b: string): void {
    this.link(a, b).held = true
    this.trace.line(`${this.sched.now()} net hold ${a} ${b}`)
  }

  /** Delivers everything held between a and b at once, then resumes normal delivery. */
  release(a: string, b: string): void {
    const l = this.link(a, b)
    l.held = false
    this.trace.line(`${this.sched.now()} net release ${a} ${b}`)
    if (!l.partitioned) this.flushLink(l)
  }

  /**
   * Cuts a from b: new connects time out; data in flight is held until heal() ('hold', as TCP
   * retransmission would eventually deliver it) or lost, and then the connections time out ('drop').
   */
  partition(a: string, b: string, mode: PartitionMode = 'hold'): void {
    const l = this.link(a, b)
    l.partitioned = true
    l.partitionMode = mode
    this.trace.line(`${this.sched.now()} net partition ${a} ${b} ${mode}`)
    if (mode === 'drop') {
      for (const f of this.flowsOn(l)) {
        f.c2s.break(new NetError('ETIMEDOUT', 'connection timed out (partition)'))
        f.s2c.break(new NetError('ETIMEDOUT', 'connection timed out (partition)'))
        this.sched.after(this.timeoutMs, `partition timeout #${f.info.id}`, () => {
          this.trace.line(`${this.sched.now()} #${f.info.id} timeout`)
          f.client.fail(new NetError('ETIMEDOUT', 'connection timed out (partition)'))
          f.server.fail(new NetError('ETIMEDOUT', 'connection timed out (partition)'))
        })
      }
    }
  }

  heal(a: string, b: string): void {
    const l = this.link(a, b)
    l.partitioned = false
    this.trace.line(`${this.sched.now()} net heal ${a} ${b}`)
    if (!l.held) this.flushLink(l)
  }

  /** Resets every connection between a and b: both ends get ECONNRESET. */
  reset(a: string, b: string): void {
    const l = this.link(a, b)
    this.trace.line(`${this.sched.now()} net reset ${a} ${b}`)
    for (const f of this.flowsOn(l)) this.resetFlow(f)
  }

  /** Resets one connection (either end may be passed): both ends get ECONNRESET. */
  resetConn(conn: Conn): void {
    for (const f of this.flows.values()) if (f.client === conn || f.server === conn) return this.resetFlow(f)
  }

  private resetFlow(f: Flow): void {
    const now = this.sched.now()
    this.trace.line(`${now} #${f.info.id} reset`)
    for (const o of this.observers) o.rst(f.info, true, now)
    f.client.fail(new NetError('ECONNRESET', 'connection reset (network)'))
    f.server.fail(new NetError('ECONNRESET', 'connection reset (network)'))
  }

  private flowsOn(l: Link): Flow[] {
    return [...this.flows.values()].filter((f) => f.link === l)
  }

  private flushLink(l: Link): void {
    for (const d of [l.ab, l.ba]) for (const p of [...d.pipes]) p.flush(true)
  }

  // ---- connections --------------------------------------------------------------------------

  connect(src: SimHost, host: string, port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const t0 = this.sched.now()
      const dst = this.host(host)
      if (!dst) {
        this.trace.line(`${t0} ${src.name} resolve-fail ${host}`)
        this.sched.after(0, `resolve ${host}`, () => reject(new NetError('ENOTFOUND', `no host "${host}"`)))
        return
      }
      const link = this.link(src.name, dst.name)
      const [cdir, sdir] = this.dirs(link, src.name)
      const id = this.nextFlow++
      const clientPort = src.ephemeralPort()
      this.connecting.set(id, `connect #${id} ${src.name}:${clientPort} -> ${dst.name}:${port}`)
      this.trace.line(`${t0} #${id} connect ${src.name}:${clientPort} ${dst.name}:${port}`)
      const timeout = () => {
        this.sched.after(this.timeoutMs, `connect timeout #${id}`, () => {
          this.connecting.delete(id)
          this.trace.line(`${this.sched.now()} #${id} connect-timeout`)
          reject(new NetError('ETIMEDOUT', `connect to ${dst.address}:${port} timed out`))
        })
      }
      if (link.partitioned) return timeout()
      this.sched.at(t0 + cdir.options.latencyMs, `syn #${id}`, () => {
        if (link.partitioned) return timeout()
        const info: FlowInfo = {
          id,
          clientHost: src.name,
          clientAddress: src.address,
          clientPort,
          serverHost: dst.name,
          serverAddress: dst.address,
          serverPort: port,
        }
        const syn = this.synVerdict(link, info)
        if (syn === 'drop') return timeout()
        const onConn = dst.listeners.get(port)
        if (!onConn || syn === 'rst') {
          this.trace.line(`${this.sched.now()} #${id} ${syn === 'rst' ? 'syn-rst' : 'refused'}`)
          this.sched.after(sdir.options.latencyMs, `rst #${id}`, () => {
            this.connecting.delete(id)
            reject(
              syn === 'rst'
                ? new NetError('ECONNRESET', `connect to ${dst.address}:${port} reset (middlebox)`)
                : new NetError('ECONNREFUSED', `connect to ${dst.address}:${port} refused`),
            )
          })
          return
        }
        const client = new SimConn(src.address, clientPort, dst.address, port)
        const server = new SimConn(dst.address, port, src.address, clientPort)
        const c2s = new Pipe(this, cdir, info, true, server)
        const s2c = new Pipe(this, sdir, info, false, client)
        c2s.reverse = s2c
        s2c.reverse = c2s
        const flow: Flow = { info, link, client, server, c2s, s2c, open: 2 }
        const closed = (end: 'client' | 'server') => {
          this.trace.line(`${this.sched.now()} #${id} ${end}-close`)
          if (--flow.open === 0) {
            this.flows.delete(id)
            this.trace.line(`${this.sched.now()} #${id} closed`)
          }
        }
        client.attach(c2s, s2c, () => closed('client'))
        server.attach(s2c, c2s, () => closed('server'))
        this.flows.set(id, flow)
        this.stats.connections++
        for (const o of this.observers) o.open(info, this.sched.now())
        this.trace.line(`${this.sched.now()} #${id} accept`)
        onConn(server)
        this.sched.after(sdir.options.latencyMs, `syn-ack #${id}`, () => {
          this.connecting.delete(id)
          this.trace.line(`${this.sched.now()} #${id} established`)
          resolve(client)
        })
      })
    })
  }

  /** The first middlebox on the link that does not pass the SYN decides. */
  private synVerdict(l: Link, info: FlowInfo): SynVerdict {
    for (const box of l.middleboxes) {
      const v = box.syn?.(info, this.sched.now()) ?? 'pass'
      if (v !== 'pass') {
        this.trace.line(`${this.sched.now()} #${info.id} ${box.name} syn-${v}`)
        return v
      }
    }
    return 'pass'
  }

  private dirs(l: Link, from: string): [LinkDir, LinkDir] {
    // A host talking to itself uses ab for client->server and ba for the replies.
    return from === l.a ? [l.ab, l.ba] : [l.ba, l.ab]
  }

  private describeWaiting(): string[] {
    const out = [...this.connecting.values()].map((c) => `pending ${c}`)
    for (const f of this.flows.values()) {
      const i = f.info
      out.push(
        `conn #${i.id} ${i.clientHost}:${i.clientPort} -> ${i.serverHost}:${i.serverPort}: c2s ${f.c2s.describe()}; s2c ${f.s2c.describe()}`,
      )
    }
    return out
  }
}

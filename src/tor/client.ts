// The Tor client: bootstraps a verified directory (disk cache, DirPort, or through a bridge), keeps
// channels to its guards, builds 3-hop circuits per isolation key, and opens streams on them.
//
//   const tor = await TorClient.create(world, { authorities: [...DirAuthority lines] })
//   const conn = await tor.connect('example.com', 80)    // a Duplex
//
// A stream whose circuit dies (exit killed, DESTROY, TRUNCATED) is retried on a new circuit; an
// END from the exit about the target itself (refused, resolve failed …) is the answer, not retried.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Timer, World } from '../net/world.js'
import { toHex } from '../wire/bytes.js'
import { EndReason, type ResolvedAnswer } from '../wire/tor/relay-msg.js'
import { learnBridge, parseBridgeLine } from './bridge.js'
import { Channel } from './channel/channel.js'
import { Circuit } from './circuit/circuit.js'
import type { RelayTarget } from './circuit/hop.js'
import { parseDirAuthority, type DirAuthority } from './dir/dir-authority.js'
import { Directory, dirPortSource, type DirSource, type NetDir, type NetRelay } from './dir/directory.js'
import { policyAllowsPort } from './dir/microdesc.js'
import { formatDirTime } from './dir/netdoc.js'
import { refreshRetryMs, refreshTime, uniformFromBytes } from './dir/refresh-schedule.js'
import { RelayMarks } from './path/relay-marks.js'
import { GuardStateError, formatGuardState, newGuard, parseGuardState, reconcileGuards, type GuardRecord } from './path/guard-state.js'
import { CircuitError, StreamError } from './errors.js'
import { PathError, chooseExit, choosePath, weightedChoice, relayWeight } from './path/path.js'
import { TorStream, resolveOnCircuit } from './stream/stream.js'
import { missingRequiredProtocols } from './protocols.js'

export interface TorClientConfig {
  /** DirAuthority lines, torrc style (without or with the keyword). */
  authorities: string[]
  /** Bridge lines "IP:PORT FINGERPRINT": when given, every circuit starts at a bridge. */
  bridges?: string[]
  /** Directory cache on disk; reused while the consensus is valid. */
  cacheDir?: string
  /** Private test network rules (TestingTorNetwork): no /16 rule. */
  testingNetwork?: boolean
  circuitBuildTimeoutMs?: number
  streamTimeoutMs?: number
  /** Bootstrap progress, like tor's "Bootstrapped N% (phase)". */
  progress?: (percent: number, phase: string) => void
  /** What happens after bootstrap that a user may want to know (directory refreshes), one line each. */
  notice?: (line: string) => void
  /** Fetch each next consensus on dir-spec §5.1's schedule (default true). */
  refreshDirectory?: boolean
  /** How long after its first stream a circuit still takes new ones (default 10 min, as tor). */
  maxCircuitDirtinessMs?: number
}

export interface ConnectOptions {
  /** Streams with different keys never share a circuit (SOCKS credentials, prop 351). */
  isolation?: string
}

interface LiveCircuit {
  circuit: Circuit
  isolation: string
  exit: RelayTarget & { policyOk: (port: number) => boolean }
  exitRsa: string
  /** World time its first stream was attached (C tor's timestamp_dirty); unset while unused. */
  dirtySince?: number
}

/**
 * tor's MaxCircuitDirtiness default: a circuit takes new streams for 10 minutes after its first,
 * then new streams get a fresh circuit, so one circuit does not link a long session's activity.
 */
const MAX_CIRCUIT_DIRTINESS_MS = 10 * 60_000

const N_PRIMARY_GUARDS = 3 // guard-spec A.1
const MAX_ATTEMPTS = 3
/** Like C tor's CircuitStreamTimeout floor: a BEGIN unanswered this long moves to another circuit. */
const STREAM_ATTEMPT_TIMEOUT_MS = 15_000

const usableGuard = (r: NetRelay): boolean => r.flags.has('Guard') && r.flags.has('Running') && r.flags.has('Valid')
const guardId = (r: NetRelay): string => toHex(r.rsaId).toUpperCase()

const targetOf = (r: NetRelay): RelayTarget => ({ host: r.address, port: r.orPort, rsaId: r.rsaId, ed25519Id: r.md.ed25519Id, ntorOnionKey: r.md.ntorOnionKey, nickname: r.nickname })

export class TorClient {
  private readonly channels = new Map<string, Promise<Channel>>()
  private readonly circuits: LiveCircuit[] = []
  /** Circuit builds in flight, by isolation key and port. */
  private readonly building = new Map<string, Promise<LiveCircuit>>()
  private primaryGuards: NetRelay[] = []
  /** Guards chosen so far, in order of preference; saved in cacheDir/guards.json. */
  private guardRecords: GuardRecord[] = []
  /** The guard file's text as last read or written. */
  private savedGuards = ''
  private bridgeTargets: RelayTarget[] = []
  /** Exits seen failing (circuit died under a stream); avoided for new circuits for a while. */
  private readonly badExits: RelayMarks
  /** Relays we could not reach while building; avoided in every position for a while. */
  private readonly downRelays: RelayMarks
  private closed = false
  private refreshTimer: Timer | undefined
  private refreshing: Promise<boolean> | undefined
  private nextRefreshAt: number | undefined

  private constructor(
    private readonly world: World,
    private readonly config: TorClientConfig,
    readonly authorities: DirAuthority[],
    private readonly directory: Directory,
    public netdir: NetDir,
  ) {
    this.badExits = new RelayMarks(() => world.now())
    this.downRelays = new RelayMarks(() => world.now())
  }

  static async create(world: World, config: TorClientConfig): Promise<TorClient> {
    const progress = config.progress ?? (() => {})
    progress(0, 'starting')
    const authorities = config.authorities.map(parseDirAuthority)
    if (authorities.length === 0) throw new Error('no directory authorities configured')
    const dir = new Directory(world, { authorities, cacheDir: config.cacheDir, progress })
    let source: DirSource = dirPortSource(world, authorities)
    const bridgeTargets: RelayTarget[] = []
    const bridgeChannels: Channel[] = []
    if (config.bridges?.length) {
      progress(5, 'connecting to the bridges')
      for (const line of config.bridges) {
        const { target, channel } = await learnBridge(world, parseBridgeLine(line))
        bridgeTargets.push(target)
        bridgeChannels.push(channel)
      }
      // A bridge user asks its bridge for the directory, never the authorities.
      source = () => oneHopDirStream(world, bridgeChannels[0], bridgeTargets[0])
    }
    const netdir = await dir.load(source)
    const missing = missingRequiredProtocols(netdir.consensus.requiredClientProtocols)
    if (missing.length) throw new Error(`the consensus requires protocols this client lacks: ${missing.join(' ')}`)
    const client = new TorClient(world, config, authorities, dir, netdir)
    client.bridgeTargets = bridgeTargets
    client.loadGuards()
    bridgeChannels.forEach((ch, i) => client.channels.set(toHex(bridgeTargets[i].rsaId), Promise.resolve(ch)))
    progress(85, `directory: ${netdir.relays.length} relays (${netdir.from}); building a circuit`)
    const circ = await client.circuitFor(80, '')
    progress(100, `done (first circuit: ${circ.circuit.hops.map((h) => h.nickname).join(' -> ')})`)
    client.scheduleRefresh()
    return client
  }

  /**
   * The next consensus fetch: at the time dir-spec §5.1 draws from the consensus in use, or after
   * `retryMs` when the last try found nothing newer or failed.
   */
  private scheduleRefresh(retryMs?: number): void {
    if (this.closed || this.config.refreshDirectory === false) return
    this.refreshTimer?.cancel()
    const now = this.world.now()
    const at = retryMs !== undefined ? now + retryMs : refreshTime(this.netdir.consensus, this.uniform())
    this.world.trace('tor-client-refresh-scheduled', { inMs: Math.max(0, at - now) })
    this.nextRefreshAt = Math.max(now, at)
    this.refreshTimer = this.world.setTimer(Math.max(0, at - now), () => void this.refreshDirectory())
  }

  /**
   * Asks for a newer consensus now (the schedule does this by itself) through the first bridge or
   * primary guard (BEGIN_DIR on a one-hop circuit, as C tor does), falling back to the
   * authorities' DirPorts when no guard serves it (never for a bridge user). Resolves true when a
   * newer directory was installed; never rejects: failures are noticed and retried.
   */
  refreshDirectory(): Promise<boolean> {
    if (this.refreshing) return this.refreshing
    this.refreshTimer?.cancel()
    const consensus = this.netdir.consensus
    const p = this.directory
      .refresh(this.refreshSource())
      .then(
        (next) => {
          if (next && !this.closed) this.install(next)
          else this.notice(`directory: no consensus newer than valid-after ${formatDirTime(consensus.validAfter)} yet`)
          return !!next && !this.closed
        },
        (e: unknown) => {
          this.notice(`directory: refresh failed (${e instanceof Error ? e.message : String(e)}); retrying`)
          return false
        },
      )
      .then((installed) => {
        this.refreshing = undefined
        if (installed) this.scheduleRefresh()
        else this.scheduleRefresh(refreshRetryMs(this.netdir.consensus, this.uniform()))
        return installed
      })
    this.refreshing = p
    return p
  }

  private refreshSource(): DirSource {
    const viaAuthorities = dirPortSource(this.world, this.authorities)
    return async () => {
      const bridge = this.bridgeTargets[0]
      const guard = this.primaryGuards.find((g) => g.flags.has('V2Dir') && !this.downRelays.has(toHex(g.rsaId)))
      const target = bridge ?? (guard && targetOf(guard))
      if (!target) return viaAuthorities()
      try {
        return await oneHopDirStream(this.world, await this.channelTo(target), target)
      } catch (e) {
        if (bridge) throw e
        return viaAuthorities()
      }
    }
  }

  /** Switches to a newer directory: new circuits choose from it; open ones stay as they are. */
  private install(next: NetDir): void {
    const before = this.netdir
    this.netdir = next
    const byId = new Map(next.relays.map((r) => [toHex(r.rsaId), r]))
    // Kept guards keep their place while the consensus still calls them usable guards.
    this.syncGuards()
    const old = new Set(before.relays.map((r) => toHex(r.rsaId)))
    const joined = next.relays.filter((r) => !old.has(toHex(r.rsaId))).length
    const left = before.relays.filter((r) => !byId.has(toHex(r.rsaId))).length
    this.world.trace('tor-client-directory', { validAfter: next.consensus.validAfter, relays: next.relays.length, joined, left, newMicrodescs: next.newMicrodescs ?? 0 })
    this.notice(
      `directory: consensus valid-after ${formatDirTime(next.consensus.validAfter)}, ${next.relays.length} relays ` +
        `(${joined} joined, ${left} left; ${next.newMicrodescs ?? 0} microdescriptors fetched)`,
    )
  }

  /** A uniform draw in [0, 1) from the World's randomness (seeded in sim). */
  private uniform(): number {
    return uniformFromBytes(this.world.random(4))
  }

  private notice(line: string): void {
    this.config.notice?.(line)
  }

  private channelTo(t: RelayTarget): Promise<Channel> {
    const key = toHex(t.rsaId)
    const existing = this.channels.get(key)
    if (existing) {
      return existing.then((ch) => {
        if (!ch.closed) return ch
        this.channels.delete(key)
        return this.channelTo(t)
      })
    }
    const p = Channel.open(this.world, t)
    this.channels.set(key, p)
    p.then(
      (ch) => ch.onClose(() => this.channels.get(key) === p && this.channels.delete(key)),
      () => this.channels.delete(key),
    )
    return p
  }

  private guardsFor(exit: NetRelay): NetRelay[] {
    const weights = this.netdir.consensus.bandwidthWeights
    const guards = this.netdir.relays.filter(usableGuard)
    while (this.primaryGuards.length < Math.min(N_PRIMARY_GUARDS, guards.length)) {
      const known = new Set(this.guardRecords.map((g) => g.id))
      const g = weightedChoice(
        this.world,
        guards.filter((r) => !known.has(guardId(r))),
        (r) => relayWeight(r, 'guard', weights),
      )
      if (!g) break
      this.guardRecords.push(newGuard(guardId(g), this.world.now(), this.uniform()))
      this.syncGuards()
    }
    return this.primaryGuards.filter((g) => toHex(g.rsaId) !== toHex(exit.rsaId))
  }

  /** Guards kept from an earlier run (cacheDir/guards.json), reconciled with the directory in use. */
  private loadGuards(): void {
    const file = this.guardFile()
    if (file && existsSync(file)) {
      try {
        this.savedGuards = readFileSync(file, 'utf8')
        this.guardRecords = parseGuardState(this.savedGuards)
      } catch (e) {
        if (!(e instanceof GuardStateError)) throw e
        this.notice(`${file}: ${e.message}; choosing guards afresh`)
      }
    }
    this.syncGuards()
  }

  /**
   * Primary guards are the first N_PRIMARY_GUARDS kept guards the consensus lists as usable, in
   * the order they were chosen; the records are saved whenever they change.
   */
  private syncGuards(): void {
    const byId = new Map(this.netdir.relays.filter(usableGuard).map((r) => [guardId(r), r]))
    this.guardRecords = reconcileGuards(this.guardRecords, (id) => byId.has(id), this.world.now())
    this.primaryGuards = this.guardRecords.flatMap((g) => byId.get(g.id) ?? []).slice(0, N_PRIMARY_GUARDS)
    const text = formatGuardState(this.guardRecords)
    const file = this.guardFile()
    if (file && text !== this.savedGuards) {
      this.savedGuards = text
      try {
        mkdirSync(dirname(file), { recursive: true })
        writeFileSync(`${file}.tmp`, text)
        renameSync(`${file}.tmp`, file)
      } catch (e) {
        // A state directory we cannot write costs persistence, not the circuit being built.
        this.notice(`cannot save guards to ${file}: ${(e as Error).message}`)
      }
    }
  }

  private guardFile(): string | undefined {
    return this.config.cacheDir && !this.bridgeTargets.length ? join(this.config.cacheDir, 'guards.json') : undefined
  }

  /** One line for a user asking what the client is doing (sultry tor prints it on SIGUSR1). */
  statusLine(): string {
    const c = this.netdir.consensus
    const open = this.circuits.filter((l) => !l.circuit.closed)
    const streams = open.reduce((n, l) => n + l.circuit.streamCount, 0)
    const next = this.nextRefreshAt !== undefined ? `, next fetch ${formatDirTime(this.nextRefreshAt)}` : ''
    return (
      `consensus valid-after ${formatDirTime(c.validAfter)} (fresh until ${formatDirTime(c.freshUntil)}, valid until ${formatDirTime(c.validUntil)}${next}), ` +
      `${this.netdir.relays.length} relays; ${this.bridgeTargets.length ? `bridges ${this.bridgeTargets.map((b) => b.nickname ?? b.host).join(' ')}` : `guards ${this.primaryGuardNames.join(' ') || '-'}`}; ` +
      `${open.length} circuits, ${streams} streams`
    )
  }

  /** Nicknames of the primary guards, in order of preference (for inspection). */
  get primaryGuardNames(): string[] {
    return this.primaryGuards.map((g) => g.nickname)
  }

  /** Exit by port policy, then guard (or bridge), then middle, all from `relays`. Throws PathError. */
  private choosePathFrom(relays: NetRelay[], port: number, attempt: number, lastTry: boolean): { path: RelayTarget[]; exit: NetRelay } {
    const weights = this.netdir.consensus.bandwidthWeights
    const exit = chooseExit(this.world, relays, port, weights)
    if (this.bridgeTargets.length) {
      const bridge = this.bridgeTargets[attempt % this.bridgeTargets.length]
      const middle = weightedChoice(
        this.world,
        relays.filter((r) => r !== exit && r.flags.has('Running') && toHex(r.rsaId) !== toHex(bridge.rsaId)),
        (r) => relayWeight(r, 'middle', weights),
      )
      if (!middle) throw new PathError('no middle relay')
      return { path: [bridge, targetOf(middle), targetOf(exit)], exit }
    }
    const guards = this.guardsFor(exit).filter((g) => lastTry || !this.downRelays.has(toHex(g.rsaId)))
    const guard = guards.length ? guards[attempt % guards.length] : undefined
    return { path: choosePath(this.world, relays, exit, weights, { enforceDistinctSubnets: !this.config.testingNetwork }, guard).map(targetOf), exit }
  }

  private async buildCircuit(port: number, isolation: string): Promise<LiveCircuit> {
    let lastError: unknown
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // Relays that failed us are left out: those we could not reach (down) and exits seen failing
      // (bad; most likely gone, so no middle either — a crashed exit as middle costs a failed
      // EXTEND2). A DESTROY does not say which hop broke, so "bad" may blame a healthy exit: the
      // last attempt readmits bad exits but still avoids relays known down, and only if that
      // leaves no path does it try every relay.
      const lastTry = attempt === MAX_ATTEMPTS - 1
      const up = this.netdir.relays.filter((r) => !this.downRelays.has(toHex(r.rsaId)))
      const tiers = lastTry ? [up, this.netdir.relays] : [up.filter((r) => !this.badExits.has(toHex(r.rsaId)))]
      let chosen: { path: RelayTarget[]; exit: NetRelay } | undefined
      for (const relays of tiers) {
        try {
          chosen = this.choosePathFrom(relays, port, attempt, lastTry)
          break
        } catch (e) {
          lastError = e
        }
      }
      if (!chosen) continue
      const { path, exit } = chosen
      try {
        const ch = await this.channelTo(path[0])
        const t0 = this.world.now()
        const circuit = await Circuit.build(this.world, ch, path, { timeoutMs: this.config.circuitBuildTimeoutMs })
        this.world.trace('tor-client-circuit', { path: path.map((p) => p.nickname), ms: this.world.now() - t0, isolation })
        const live: LiveCircuit = { circuit, isolation, exit: { ...path[2], policyOk: (p) => policyAllowsPort(exit.md.policy, p) }, exitRsa: toHex(exit.rsaId) }
        this.circuits.push(live)
        circuit.onClose((err) => {
          const i = this.circuits.indexOf(live)
          if (i >= 0) this.circuits.splice(i, 1)
          // A hop lost its link onward: most likely the exit went away.
          if (err.code === 'truncated' || err.code === 'destroyed') this.badExits.add(live.exitRsa)
        })
        return live
      } catch (e) {
        lastError = e
        // The hop we could not reach (the channel's relay, or the one an EXTEND2 was for) is down.
        const failed = e instanceof CircuitError ? (e.failedHop ?? 0) : 0
        const down = path[Math.min(failed, path.length - 1)]
        this.downRelays.add(toHex(down.rsaId))
        // A primary guard that failed stays primary (guard-spec): it is skipped while marked down
        // and tried again after the mark fades, like C tor's 10-minute primary-guard retry.
        this.world.trace('tor-client-build-failed', { path: path.map((p) => p.nickname), down: down.nickname, why: (e as Error).message })
      }
    }
    throw lastError instanceof Error ? lastError : new CircuitError('handshake', 'could not build a circuit')
  }

  private async circuitFor(port: number, isolation: string): Promise<LiveCircuit> {
    if (this.closed) throw new CircuitError('closed', 'client is closed')
    this.expireDirtyCircuits()
    // A circuit whose exit has since been seen failing is left alone: its own DESTROY may be late.
    const found = this.circuits.find((c) => !c.circuit.closed && c.isolation === isolation && c.exit.policyOk(port) && !this.badExits.has(c.exitRsa) && !this.tooDirty(c))
    if (found) return found
    // Requests that arrive together share one build instead of each building a circuit.
    const key = `${isolation}\0${port}`
    const pending = this.building.get(key)
    if (pending) return pending
    const p = this.buildCircuit(port, isolation).finally(() => this.building.delete(key))
    this.building.set(key, p)
    return p
  }

  private tooDirty(c: LiveCircuit): boolean {
    return c.dirtySince !== undefined && this.world.now() - c.dirtySince >= (this.config.maxCircuitDirtinessMs ?? MAX_CIRCUIT_DIRTINESS_MS)
  }

  /** Circuits past their dirtiness with no stream left are closed (their open streams keep theirs). */
  private expireDirtyCircuits(): void {
    for (const c of [...this.circuits]) {
      if (this.tooDirty(c) && c.circuit.streamCount === 0 && !c.circuit.closed) {
        this.world.trace('tor-client-circuit-expired', { path: c.circuit.hops.map((h) => h.nickname), dirtyMs: this.world.now() - c.dirtySince! })
        c.circuit.destroy()
      }
    }
  }

  /** Circuits currently open, for inspection (which exit, which isolation key). */
  get openCircuits(): ReadonlyArray<{ isolation: string; path: string[]; circuit: Circuit }> {
    return this.circuits.map((c) => ({ isolation: c.isolation, path: c.circuit.hops.map((h) => h.nickname ?? ''), circuit: c.circuit }))
  }

  /** Opens a stream to host:port through an exit (the exit resolves hostnames). */
  async connect(host: string, port: number, opts: ConnectOptions = {}): Promise<TorStream> {
    const isolation = opts.isolation ?? ''
    let lastError: unknown
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let live: LiveCircuit
      try {
        live = await this.circuitFor(port, isolation)
      } catch (e) {
        // A build that failed taught us which relay is down (or joined a build chosen before we
        // knew): the next attempt chooses again with that knowledge.
        lastError = e
        if (this.closed || e instanceof PathError) throw e
        continue
      }
      try {
        live.dirtySince ??= this.world.now()
        return await TorStream.open(this.world, live.circuit, { host, port }, this.config.streamTimeoutMs ?? STREAM_ATTEMPT_TIMEOUT_MS)
      } catch (e) {
        lastError = e
        // The exit answered about the target: that is the answer. EXITPOLICY/RESOURCELIMIT/… : try another exit.
        if (e instanceof StreamError && e.code === 'end' && !RETRY_END_REASONS.has(e.reason ?? 0)) throw e
        if (e instanceof StreamError && e.code !== 'end') this.badExits.add(live.exitRsa)
        if (!live.circuit.closed) live.circuit.destroy()
      }
    }
    throw lastError
  }

  async resolve(hostname: string, opts: ConnectOptions = {}): Promise<ResolvedAnswer[]> {
    const live = await this.circuitFor(80, opts.isolation ?? '')
    live.dirtySince ??= this.world.now()
    return resolveOnCircuit(this.world, live.circuit, hostname, this.config.streamTimeoutMs)
  }

  async close(): Promise<void> {
    this.closed = true
    this.refreshTimer?.cancel()
    for (const c of [...this.circuits]) c.circuit.destroy()
    for (const p of this.channels.values()) p.then((ch) => ch.close(), () => {})
    this.channels.clear()
  }
}

/** A BEGIN_DIR stream on a one-hop CREATE_FAST circuit (how clients ask their guard or bridge for directory documents). */
async function oneHopDirStream(world: World, ch: Channel, target: RelayTarget): Promise<TorStream> {
  const circ = await Circuit.buildFast(world, ch, target)
  const s = await TorStream.open(world, circ, 'dir')
  s.on('close', () => circ.destroy())
  return s
}

/** END reasons that say "this exit, not that target" (tor retries these elsewhere, too). */
const RETRY_END_REASONS = new Set<number>([EndReason.EXITPOLICY, EndReason.RESOURCELIMIT, EndReason.HIBERNATING, EndReason.DESTROY, EndReason.TIMEOUT])

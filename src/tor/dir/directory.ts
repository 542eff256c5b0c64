// The client's view of the network: a consensus signed by more than half of the configured
// authorities, and the microdescriptors it names. Fetched over a "dir source" (DirPort HTTP while
// bootstrapping, BEGIN_DIR once we have circuits), verified, cached on disk and reused while the
// consensus is still valid at the World clock's time.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import type { World } from '../../net/world.js'
import { WireError, toHex } from '../../wire/bytes.js'
import { parseAuthorityCerts, type AuthorityCert } from './authority-cert.js'
import { parseConsensus, type Consensus, type ConsensusRelay } from './consensus.js'
import { checkConsensusSignatures } from './consensus-signatures.js'
import type { DirAuthority } from './dir-authority.js'
import { httpGet } from './http-get.js'
import { parseMicrodesc, splitMicrodescs, type Microdesc } from './microdesc.js'

/** Opens a byte stream to some directory server (a DirPort or a BEGIN_DIR stream). */
export type DirSource = () => Promise<Duplex>

export class DirectoryError extends Error {
  override readonly name = 'DirectoryError'
}

/** A usable relay: its consensus entry joined with its microdescriptor. */
export interface NetRelay extends ConsensusRelay {
  md: Microdesc
}

export interface NetDir {
  consensus: Consensus
  relays: NetRelay[]
  /** Where the documents came from: the network or the disk cache. */
  from: 'network' | 'cache'
  /** Microdescriptors this fetch asked for (a refresh asks only for those not already held). */
  newMicrodescs?: number
}

export interface DirectoryOptions {
  authorities: DirAuthority[]
  /** Directory for the disk cache; none = no cache. */
  cacheDir?: string
  progress?: (percent: number, phase: string) => void
  /**
   * How long after valid-until a cached or fetched consensus is still used. C tor accepts a
   * "reasonably live" consensus up to 24 h late; the lab network's lives only 40 s.
   */
  toleranceMs?: number
}

const MICRODESC_BATCH = 90 // digests per request keeps URLs short (C tor asks for at most 92)

/** A microdescriptor kept for the consensus in use: parsed, and its text for the disk cache. */
interface HeldMicrodesc {
  md: Microdesc
  text: string
}

function heldByDigest(texts: string[]): Map<string, HeldMicrodesc> {
  return new Map(texts.map((text) => {
    const md = parseMicrodesc(text)
    return [md.digest, { md, text }]
  }))
}

function assemble(consensus: Consensus, held: Map<string, HeldMicrodesc>): NetRelay[] {
  const out: NetRelay[] = []
  for (const r of consensus.relays) {
    const h = held.get(r.microdescDigest)
    if (h) out.push({ ...r, md: h.md })
  }
  return out
}

export class Directory {
  /** Key certificates last fetched (text as served, for the cache). */
  private certText = ''
  private certs: AuthorityCert[] = []
  /**
   * Microdescriptors by digest, parsed and as text (for the cache), for the consensus in use: a
   * refresh fetches and parses only the rest.
   */
  private held = new Map<string, HeldMicrodesc>()
  private current: Consensus | undefined

  constructor(
    private readonly world: World,
    private readonly opts: DirectoryOptions,
  ) {}

  private usable(c: Consensus): boolean {
    const now = this.world.now()
    return now >= c.validAfter - 60_000 && now <= c.validUntil + (this.opts.toleranceMs ?? 24 * 3_600_000)
  }

  private verify(c: Consensus, certs: AuthorityCert[]): void {
    const tally = checkConsensusSignatures(c, this.opts.authorities, certs, this.world.now())
    if (!tally.ok) throw new DirectoryError(`consensus signed by ${tally.validFrom.length} of ${this.opts.authorities.length} authorities; ${tally.required} required`)
  }

  /** The cached directory if it is still valid and verifies, else undefined. */
  loadCache(): NetDir | undefined {
    const d = this.opts.cacheDir
    if (!d || !existsSync(join(d, 'consensus-microdesc'))) return undefined
    try {
      const consensus = parseConsensus(readFileSync(join(d, 'consensus-microdesc'), 'latin1'))
      if (!this.usable(consensus)) return undefined
      const certText = readFileSync(join(d, 'authority-certs'), 'latin1')
      const certs = parseAuthorityCerts(certText)
      this.verify(consensus, certs)
      const held = heldByDigest(splitMicrodescs(readFileSync(join(d, 'microdescs'), 'latin1')))
      const relays = assemble(consensus, held)
      if (relays.length < consensus.relays.length) return undefined
      this.remember(consensus, certText, certs, held)
      return { consensus, relays, from: 'cache' }
    } catch (e) {
      if (e instanceof WireError || e instanceof DirectoryError) return undefined // a damaged cache is refetched
      throw e
    }
  }

  private getter(source: DirSource): (path: string) => Promise<string> {
    return async (path) => httpGet(this.world, await source(), path)
  }

  private async fetchCerts(get: (path: string) => Promise<string>): Promise<{ certText: string; certs: AuthorityCert[] }> {
    const fps = this.opts.authorities.map((a) => toHex(a.v3ident).toUpperCase()).join('+')
    const certText = await get(`/tor/keys/fp/${fps}`)
    return { certText, certs: parseAuthorityCerts(certText) }
  }

  /** Fetches certificates, consensus and microdescriptors through `source`, verifies, caches. */
  async fetch(source: DirSource): Promise<NetDir> {
    const progress = this.opts.progress ?? (() => {})
    const get = this.getter(source)
    progress(10, 'loading authority key certificates')
    const { certText, certs } = await this.fetchCerts(get)
    progress(25, 'loading the consensus')
    const consText = await get('/tor/status-vote/current/consensus-microdesc')
    const consensus = parseConsensus(consText)
    if (!this.usable(consensus)) throw new DirectoryError('consensus is not valid at this time')
    this.verify(consensus, certs)
    return this.complete(get, { consText, consensus, certText, certs }, progress)
  }

  /**
   * The next consensus, if `source` has one newer than the one in use: certificates are fetched
   * again only when the known ones do not verify it (an authority rotated its signing key), and
   * only the microdescriptors not already held are asked for. undefined: nothing newer there yet.
   */
  async refresh(source: DirSource): Promise<NetDir | undefined> {
    const get = this.getter(source)
    const consText = await get('/tor/status-vote/current/consensus-microdesc')
    const consensus = parseConsensus(consText)
    if (this.current && consensus.validAfter <= this.current.validAfter) return undefined
    if (!this.usable(consensus)) throw new DirectoryError('consensus is not valid at this time')
    let { certText, certs } = this
    try {
      this.verify(consensus, certs)
    } catch (e) {
      if (!(e instanceof DirectoryError)) throw e
      ;({ certText, certs } = await this.fetchCerts(get))
      this.verify(consensus, certs)
    }
    return this.complete(get, { consText, consensus, certText, certs }, () => {})
  }

  /** Microdescriptors for a verified consensus (those not held yet), then the cache. */
  private async complete(get: (path: string) => Promise<string>, docs: { consText: string; consensus: Consensus; certText: string; certs: AuthorityCert[] }, progress: (p: number, phase: string) => void): Promise<NetDir> {
    const { consText, consensus, certText, certs } = docs
    progress(40, 'loading microdescriptors')
    const named = new Set(consensus.relays.map((r) => r.microdescDigest))
    const held = new Map([...this.held].filter(([d]) => named.has(d)))
    const wanted = [...named].filter((d) => !held.has(d))
    for (let i = 0; i < wanted.length; i += MICRODESC_BATCH) {
      // Only microdescriptors whose digest the verified consensus names are kept: that authenticates them.
      const got = heldByDigest(splitMicrodescs(await get(`/tor/micro/d/${wanted.slice(i, i + MICRODESC_BATCH).join('-')}`)))
      for (const [digest, h] of got) if (named.has(digest)) held.set(digest, h)
      progress(40 + Math.round((40 * Math.min(wanted.length, i + MICRODESC_BATCH)) / wanted.length), 'loading microdescriptors')
    }
    const relays = assemble(consensus, held)
    this.remember(consensus, certText, certs, held)
    if (this.opts.cacheDir) {
      mkdirSync(this.opts.cacheDir, { recursive: true })
      writeFileSync(join(this.opts.cacheDir, 'authority-certs'), certText, 'latin1')
      writeFileSync(join(this.opts.cacheDir, 'consensus-microdesc'), consText, 'latin1')
      writeFileSync(join(this.opts.cacheDir, 'microdescs'), [...held.values()].map((h) => h.text).join(''), 'latin1')
    }
    return { consensus, relays, from: 'network', newMicrodescs: wanted.length }
  }

  private remember(consensus: Consensus, certText: string, certs: AuthorityCert[], held: Map<string, HeldMicrodesc>): void {
    this.current = consensus
    this.certText = certText
    this.certs = certs
    this.held = held
  }

  /** The cache if usable, else a fetch. */
  async load(source: DirSource): Promise<NetDir> {
    const cached = this.loadCache()
    if (cached) {
      this.opts.progress?.(80, 'directory loaded from the disk cache')
      return cached
    }
    return this.fetch(source)
  }
}

/** A DirSource for bootstrap: plain HTTP to the authorities' DirPorts, trying each in turn. */
export function dirPortSource(world: World, authorities: DirAuthority[]): DirSource {
  let next = 0
  return async () => {
    let last: unknown
    for (let i = 0; i < authorities.length; i++) {
      const a = authorities[(next + i) % authorities.length]
      try {
        const conn = await world.net.connect(a.address, a.dirPort)
        next = (next + i + 1) % authorities.length
        return conn
      } catch (e) {
        last = e
      }
    }
    throw new DirectoryError(`no directory authority reachable: ${(last as Error)?.message}`)
  }
}

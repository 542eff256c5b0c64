// The microdescriptor-flavoured consensus (dir-spec §3.4.1 and §3.9, "microdesc" flavour):
// header (lifetime, params, known flags), one entry per relay (r, m, s, v, pr, w), footer
// (bandwidth-weights, directory-signature). Parsing only; signatures are checked by
// consensus-signatures.ts against authority certificates.

import { WireError } from '../../wire/bytes.js'
import { base64Exact, hexExact, intArg, parseTime, tokenize, type NetdocItem } from './netdoc.js'
import { sha1, sha256 } from './rsa.js'

export interface ConsensusRelay {
  nickname: string
  /** RSA identity (20 bytes). */
  rsaId: Uint8Array
  address: string
  orPort: number
  dirPort: number
  /** SHA-256 of its microdescriptor, base64 without '=' (as in the m line and in /tor/micro/d/ URLs). */
  microdescDigest: string
  flags: Set<string>
  /** "w Bandwidth=" in kilobytes/s; 0 when absent. */
  bandwidth: number
  unmeasured: boolean
  /** "pr" line: protocol name -> supported versions. */
  protocols: Map<string, Set<number>>
}

export interface ConsensusSignature {
  algorithm: 'sha1' | 'sha256'
  /** The authority's v3 identity (20 bytes). */
  identity: Uint8Array
  /** SHA-1 of the signing key (20 bytes). */
  signingKeyDigest: Uint8Array
  signature: Uint8Array
}

export interface Consensus {
  validAfter: number
  freshUntil: number
  validUntil: number
  knownFlags: string[]
  params: Map<string, number>
  bandwidthWeights: Map<string, number>
  requiredClientProtocols: Map<string, Set<number>>
  relays: ConsensusRelay[]
  signatures: ConsensusSignature[]
  /** Digests of the signed part (start through the space after the first "directory-signature"). */
  signedDigest: { sha1: Uint8Array; sha256: Uint8Array }
}

function keyValues(args: string[], what: string): Map<string, number> {
  const m = new Map<string, number>()
  for (const a of args) {
    const eq = a.indexOf('=')
    if (eq <= 0) throw new WireError('bad-value', `${what}: "${a}" is not key=value`)
    m.set(a.slice(0, eq), intArg(a.slice(eq + 1), `${what} ${a.slice(0, eq)}`, -2147483648, 2147483647))
  }
  return m
}

/** "Link=4-5 Relay=2-4" -> Map. */
export function parseProtocols(args: string[], what: string): Map<string, Set<number>> {
  const m = new Map<string, Set<number>>()
  for (const a of args) {
    const eq = a.indexOf('=')
    if (eq <= 0) throw new WireError('bad-value', `${what}: "${a}" is not Name=versions`)
    const set = new Set<number>()
    const spec = a.slice(eq + 1)
    if (spec !== '') {
      for (const range of spec.split(',')) {
        const [lo, hi = lo] = range.split('-')
        const l = intArg(lo, what, 0, 63)
        const h = intArg(hi, what, 0, 63)
        if (h < l) throw new WireError('bad-value', `${what}: range ${range}`)
        for (let v = l; v <= h; v++) set.add(v)
      }
    }
    m.set(a.slice(0, eq), set)
  }
  return m
}

function single(items: NetdocItem[], kw: string): NetdocItem {
  const f = items.filter((i) => i.keyword === kw)
  if (f.length !== 1) throw new WireError('bad-value', `consensus: want exactly one ${kw}, found ${f.length}`)
  return f[0]
}

const time = (i: NetdocItem, what: string) => parseTime(i.args[0], i.args[1], what)

export function parseConsensus(text: string): Consensus {
  const items = tokenize(text, 'consensus')
  if (items[0]?.keyword !== 'network-status-version' || items[0].args[0] !== '3' || items[0].args[1] !== 'microdesc') {
    throw new WireError('unsupported', 'not a v3 microdesc consensus')
  }
  if (single(items, 'vote-status').args[0] !== 'consensus') throw new WireError('bad-value', 'vote-status is not consensus')
  const firstSig = items.findIndex((i) => i.keyword === 'directory-signature')
  if (firstSig < 0) throw new WireError('bad-value', 'consensus: no directory-signature')
  const header = items.slice(0, firstSig)
  const relays: ConsensusRelay[] = []
  let cur: ConsensusRelay | undefined
  for (const it of header) {
    if (it.keyword === 'r') {
      const a = it.args
      if (a.length < 7) throw new WireError('bad-value', 'consensus r line too short')
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(a[4])) throw new WireError('bad-value', 'consensus r line address')
      cur = {
        nickname: a[0],
        rsaId: base64Exact(a[1], 20, 'r identity'),
        address: a[4],
        orPort: intArg(a[5], 'r ORPort', 0, 65535),
        dirPort: intArg(a[6], 'r DirPort', 0, 65535),
        microdescDigest: '',
        flags: new Set(),
        bandwidth: 0,
        unmeasured: false,
        protocols: new Map(),
      }
      parseTime(a[2], a[3], 'r published')
      relays.push(cur)
    } else if (cur && it.keyword === 'm') {
      base64Exact(it.args[0], 32, 'm digest')
      cur.microdescDigest = it.args[0].replace(/=+$/, '')
    } else if (cur && it.keyword === 's') {
      cur.flags = new Set(it.args)
    } else if (cur && it.keyword === 'w') {
      const kv = keyValues(it.args, 'w line')
      cur.bandwidth = Math.max(0, kv.get('Bandwidth') ?? 0)
      cur.unmeasured = kv.get('Unmeasured') === 1
    } else if (cur && it.keyword === 'pr') {
      cur.protocols = parseProtocols(it.args, 'pr line')
    }
  }
  for (const r of relays) if (!r.microdescDigest) throw new WireError('bad-value', `consensus: relay ${r.nickname} has no m line`)

  const signatures: ConsensusSignature[] = []
  for (const it of items.slice(firstSig)) {
    if (it.keyword === 'directory-signature') {
      const a = it.args.length === 3 ? it.args : ['sha1', ...it.args]
      if (a.length !== 3) throw new WireError('bad-value', 'directory-signature arguments')
      if (!it.object || it.object.type !== 'SIGNATURE') throw new WireError('bad-value', 'directory-signature without SIGNATURE')
      if (a[0] !== 'sha1' && a[0] !== 'sha256') continue // unknown algorithms are ignored (dir-spec §3.4.1)
      signatures.push({ algorithm: a[0], identity: hexExact(a[1], 20, 'signature identity'), signingKeyDigest: hexExact(a[2], 20, 'signing key digest'), signature: it.object.bytes })
    }
  }
  // dir-spec: the signed part runs through the space after the first "directory-signature".
  const signed = text.slice(0, items[firstSig].start + 'directory-signature '.length)
  const bw = items.find((i) => i.keyword === 'bandwidth-weights')
  const params = items.find((i) => i.keyword === 'params')
  const req = items.find((i) => i.keyword === 'required-client-protocols')
  return {
    validAfter: time(single(items, 'valid-after'), 'valid-after'),
    freshUntil: time(single(items, 'fresh-until'), 'fresh-until'),
    validUntil: time(single(items, 'valid-until'), 'valid-until'),
    knownFlags: single(items, 'known-flags').args,
    params: params ? keyValues(params.args, 'params') : new Map(),
    bandwidthWeights: bw ? keyValues(bw.args, 'bandwidth-weights') : new Map(),
    requiredClientProtocols: req ? parseProtocols(req.args, 'required-client-protocols') : new Map(),
    relays,
    signatures,
    signedDigest: { sha1: sha1(signed), sha256: sha256(signed) },
  }
}

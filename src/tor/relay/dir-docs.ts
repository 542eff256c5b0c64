// The directory a simulated Tor network's authorities publish (dir-spec): authority key
// certificates (§3.1, "creating-key-certificates"), one microdesc-flavoured consensus signed by
// every authority (§3.4.1, §3.9), the microdescriptors it names (§3.3, "computing-
// microdescriptors"), and a DirPort that serves them over HTTP/1.0 (§6, "client-operation").
// There is no voting: one function lays the consensus out as the authorities would have agreed on
// it, and each authority signs it. The client's parsers in src/tor/dir accept what is written here
// as they accept real tor 0.4.9's documents (src/tor/dir/fixtures), whose layout this follows.

import { createPublicKey, privateEncrypt, constants, type KeyObject } from 'node:crypto'
import type { Conn, Listener, World } from '../../net/world.js'
import { WireError, concatBytes, isTruncated, toHex } from '../../wire/bytes.js'
import { dirResponseBytes } from './dir-stream.js'
import { parseRequestHead } from '../../wire/http/request-head.js'
import { generateRsaPrivateKey } from '../../crypto/rsa-keygen.js'
import { sha1, sha256 } from '../dir/rsa.js'
import { formatDirTime } from '../dir/netdoc.js'
import { SUPPORTED_PROTOCOLS } from '../protocols.js'
import type { RelayKeys } from './keys.js'

/**
 * Key size of both authority keys in the sim. dir-spec ("directory-authority-operation-formats")
 * wants an identity key of at least 3072 bits and a signing key of at least 2048 (tor-gencert's
 * defaults; the lab's tor 0.4.9 certificates in src/tor/dir/fixtures have exactly those). Our
 * verifier does not constrain sizes, and 1024-bit keys keep seeded key generation quick.
 */
export const SIM_AUTHORITY_KEY_BITS = 1024

export interface AuthorityKeys {
  nickname: string
  address: string
  dirPort: number
  orPort: number
  /** Long-term authority identity key (private). */
  identity: KeyObject
  /** Medium-term signing key (private): it signs the consensus. */
  signing: KeyObject
}

/** What a simulated relay publishes, as the consensus and its microdescriptor carry it. */
export interface DirRelayEntry {
  nickname: string
  address: string
  orPort: number
  /** RSA identity digest (20 bytes). */
  rsaId: Uint8Array
  ed25519Id: Uint8Array
  ntorOnionKey: Uint8Array
  /** e.g. ['Fast','Guard','Running','Stable','Valid','V2Dir'] (+ 'Exit'). */
  flags: string[]
  /** The consensus "w Bandwidth=" value (kilobytes/s). */
  bandwidth: number
  /** Microdescriptor "p" summary, e.g. 'accept 1-65535'; absent: no p line (not an exit). */
  exitPorts?: string
  /** Microdescriptor "family" entries ($HEXFP or nicknames). */
  family?: string[]
  /** "v" line; default SIM_RELAY_VERSION. */
  version?: string
  /** "pr" line; default: the subprotocols our client speaks (SUPPORTED_PROTOCOLS). */
  protocols?: string
}

export interface DirectoryDocs {
  /** All authorities' key certificates, concatenated (what /tor/keys/all answers). */
  authorityCerts: string
  consensus: string
  /** Microdescriptor text by its digest (SHA-256, base64 without '='). */
  microdescs: Map<string, string>
}

export interface ConsensusOptions {
  validAfterMs: number
  /** fresh-until - valid-after; default 1 h, as on the public network. */
  freshMs?: number
  /** valid-until - valid-after; default 3 h, as on the public network. */
  validMs?: number
  params?: Record<string, number>
  /** bandwidth-weights; default: every W = 10000 (no position is starved in a small network). */
  bandwidthWeights?: Record<string, number>
  /** How long authority certificates live from valid-after; default a year (tor-gencert's default lifetime is 12 months). */
  certLifetimeMs?: number
}

/** The consensus method tor 0.4.9 uses (the lab's 0.4.9.11 consensus in src/tor/dir/fixtures says 35). */
export const CONSENSUS_METHOD = 35

/** The relays of the sim are ours, not tor; the "v" line says so (clients go by "pr"). */
export const SIM_RELAY_VERSION = 'Sultry sim relay'

/** Flags every consensus lists as known, whether or not a relay has them (§3.4.1 known-flags). */
const BASE_KNOWN_FLAGS = ['Exit', 'Fast', 'Guard', 'Running', 'Stable', 'V2Dir', 'Valid']

/** What tor 0.4.9 requires of clients (fixture consensus); all of it is in SUPPORTED_PROTOCOLS. */
const REQUIRED_CLIENT_PROTOCOLS = 'Cons=2 Desc=2 FlowCtrl=1 Link=4 Microdesc=2 Relay=2'
/** What tor 0.4.9 requires of relays (fixture consensus, less what no sim relay needs: HS and LinkAuth). */
const REQUIRED_RELAY_PROTOCOLS = 'Cons=2 Desc=2 DirCache=2 FlowCtrl=1 Link=4-5 Microdesc=2 Relay=2'

/** The 19 weights tor publishes (dir-spec §3.8.3). */
const WEIGHT_NAMES = ['Wbd', 'Wbe', 'Wbg', 'Wbm', 'Wdb', 'Web', 'Wed', 'Wee', 'Weg', 'Wem', 'Wgb', 'Wgd', 'Wgg', 'Wgm', 'Wmb', 'Wmd', 'Wme', 'Wmg', 'Wmm']

/**
 * In a microdesc consensus, tor 0.4.9 writes this fixed "published" time in every r line (the
 * fixture's r lines all say it): the real one lives in the descriptor, which clients never see.
 */
const R_PUBLISHED = '2038-01-01 00:00:00'

const HOUR = 3_600_000

// ---------------------------------------------------------------------------------------------
// Keys and encodings

const pkcs1Der = (key: KeyObject): Uint8Array => new Uint8Array(createPublicKey(key).export({ type: 'pkcs1', format: 'der' }))

/** v3ident: SHA-1 of the identity key's PKCS#1 DER (dir-spec "fingerprint"). */
export function authorityV3Ident(a: AuthorityKeys): Uint8Array {
  return sha1(pkcs1Der(a.identity))
}

/** SHA-1 of the signing key's PKCS#1 DER: what directory-signature lines name. */
export function signingKeyDigest(a: AuthorityKeys): Uint8Array {
  return sha1(pkcs1Der(a.signing))
}

/** PKCS#1 v1.5 signature of the bare digest, no DigestInfo (dir-spec §1.3). Deterministic. */
function rsaSignDigest(key: KeyObject, digest: Uint8Array): Uint8Array {
  return new Uint8Array(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digest))
}

/** One object in the netdoc armour, base64 wrapped at 64 columns (dir-spec §1.2). */
function armour(type: string, bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString('base64')
  const lines: string[] = []
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64))
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`
}

const b64NoPad = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/=+$/, '')
const hexUpper = (b: Uint8Array) => toHex(b).toUpperCase()

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

// ---------------------------------------------------------------------------------------------
// Input checks: what would make a document the parsers refuse, refused here instead.

const NICKNAME = /^[A-Za-z0-9]{1,19}$/
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/
const FLAG = /^[A-Za-z0-9]+$/
const ITEM_ARG = /^[\x21-\x7e]+$/

function bad(what: string): never {
  throw new WireError('bad-value', what)
}

function checkNickname(n: string, what: string): void {
  if (!NICKNAME.test(n)) bad(`${what}: nickname ${JSON.stringify(n)} is not 1-19 letters and digits`)
}

function checkIpv4(a: string, what: string): void {
  const m = IPV4.exec(a)
  if (!m || m.slice(1).some((o) => Number(o) > 255)) bad(`${what}: ${JSON.stringify(a)} is not an IPv4 address`)
}

function checkPort(p: number, what: string, min = 1): void {
  if (!Number.isInteger(p) || p < min || p > 65535) bad(`${what}: port ${p}`)
}

function checkLength(b: Uint8Array, len: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== len) bad(`${what}: want ${len} bytes`)
}

function checkArgs(s: string, what: string): void {
  if (!s.split(' ').every((w) => ITEM_ARG.test(w))) bad(`${what}: ${JSON.stringify(s)} is not space-separated printable words`)
}

function checkInt32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) bad(`${what}: ${v} is not a 32-bit integer`)
}

function checkKeyword(k: string, what: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(k)) bad(`${what}: key ${JSON.stringify(k)}`)
}

function checkAuthority(a: AuthorityKeys): void {
  const what = `authority ${a.nickname}`
  checkNickname(a.nickname, 'authority')
  checkIpv4(a.address, what)
  checkPort(a.dirPort, `${what} DirPort`)
  checkPort(a.orPort, `${what} ORPort`)
  for (const k of [a.identity, a.signing]) {
    if (k.type !== 'private' || k.asymmetricKeyType !== 'rsa') bad(`${what}: keys must be RSA private keys`)
  }
}

function checkRelay(r: DirRelayEntry): void {
  const what = `relay ${r.nickname}`
  checkNickname(r.nickname, 'relay')
  checkIpv4(r.address, what)
  checkPort(r.orPort, `${what} ORPort`)
  checkLength(r.rsaId, 20, `${what} RSA identity`)
  checkLength(r.ed25519Id, 32, `${what} Ed25519 identity`)
  checkLength(r.ntorOnionKey, 32, `${what} ntor onion key`)
  for (const f of r.flags) if (!FLAG.test(f)) bad(`${what}: flag ${JSON.stringify(f)}`)
  if (!Number.isInteger(r.bandwidth) || r.bandwidth < 0 || r.bandwidth > 2147483647) bad(`${what}: bandwidth ${r.bandwidth}`)
  if (r.exitPorts !== undefined && !/^(accept|reject) \d{1,5}(-\d{1,5})?(,\d{1,5}(-\d{1,5})?)*$/.test(r.exitPorts)) bad(`${what}: exit policy summary ${JSON.stringify(r.exitPorts)}`)
  if (r.family?.length) checkArgs(r.family.join(' '), `${what} family`)
  if (r.version !== undefined) checkArgs(r.version, `${what} version`)
  if (r.protocols !== undefined) checkArgs(r.protocols, `${what} protocols`)
}

// ---------------------------------------------------------------------------------------------
// Authorities

/**
 * An authority's identity and signing keys drawn from `random` (the sim World's seeded bytes),
 * identity first, so the same seed gives the same authority.
 */
export function generateAuthorityKeys(random: (n: number) => Uint8Array, nickname: string, address: string, dirPort: number, orPort: number): AuthorityKeys {
  const identity = generateRsaPrivateKey(random, SIM_AUTHORITY_KEY_BITS)
  const signing = generateRsaPrivateKey(random, SIM_AUTHORITY_KEY_BITS)
  const a = { nickname, address, dirPort, orPort, identity, signing }
  checkAuthority(a)
  return a
}

/**
 * The torrc line naming this authority (man tor, DirAuthority). The fingerprint is meant to be
 * the authority's relay identity; a sim authority is no relay, so it gives its v3ident there too.
 */
export function dirAuthorityLine(a: AuthorityKeys): string {
  checkAuthority(a)
  const v3 = hexUpper(authorityV3Ident(a))
  return `DirAuthority ${a.nickname} orport=${a.orPort} no-v2 v3ident=${v3} ${a.address}:${a.dirPort} ${v3}`
}

/**
 * One key certificate (dir-spec "creating-key-certificates"): the signing key cross-certifies the
 * identity (dir-key-crosscert: its signature of SHA-1 of the identity key's DER), then the
 * identity key signs SHA-1 of everything from the start through "dir-key-certification\n".
 */
export function authorityCertificate(a: AuthorityKeys, publishedMs: number, expiresMs: number): string {
  checkAuthority(a)
  const idDer = pkcs1Der(a.identity)
  const body =
    'dir-key-certificate-version 3\n' +
    `dir-address ${a.address}:${a.dirPort}\n` +
    `fingerprint ${hexUpper(sha1(idDer))}\n` +
    `dir-key-published ${formatDirTime(publishedMs)}\n` +
    `dir-key-expires ${formatDirTime(expiresMs)}\n` +
    'dir-identity-key\n' +
    armour('RSA PUBLIC KEY', idDer) +
    'dir-signing-key\n' +
    armour('RSA PUBLIC KEY', pkcs1Der(a.signing)) +
    'dir-key-crosscert\n' +
    armour('ID SIGNATURE', rsaSignDigest(a.signing, sha1(idDer))) +
    'dir-key-certification\n'
  return body + armour('SIGNATURE', rsaSignDigest(a.identity, sha1(body)))
}

// ---------------------------------------------------------------------------------------------
// Server descriptors (for sim bridges)

/**
 * A bridge's own server descriptor (dir-spec §2.1.1), as it answers GET /tor/server/authority on
 * BEGIN_DIR: router, master-key-ed25519, published, fingerprint, bandwidth, the RSA signing-key,
 * ntor-onion-key, an exit policy and the RSA router-signature over everything before it. It leaves
 * out what only C tor checks (the identity-ed25519 certificate, router-sig-ed25519 and the two
 * onion-key cross-certifications), so it serves sim bridges and our client, which trusts a bridge's
 * descriptor because it arrives over a channel whose CERTS proved the bridge line's fingerprint.
 */
export function serverDescriptor(keys: RelayKeys, r: DirRelayEntry, publishedMs: number): string {
  checkRelay(r)
  const idDer = pkcs1Der(keys.rsaIdentity)
  const fp = hexUpper(sha1(idDer))
  const bytesPerSecond = r.bandwidth * 1000
  const body =
    `router ${r.nickname} ${r.address} ${r.orPort} 0 0\n` +
    `master-key-ed25519 ${b64NoPad(r.ed25519Id)}\n` +
    `platform ${r.version ?? SIM_RELAY_VERSION}\n` +
    `proto ${r.protocols ?? CLIENT_PROTOCOLS}\n` +
    `published ${formatDirTime(publishedMs)}\n` +
    `fingerprint ${fp.match(/.{4}/g)!.join(' ')}\n` +
    `bandwidth ${bytesPerSecond} ${bytesPerSecond} ${bytesPerSecond}\n` +
    'signing-key\n' +
    armour('RSA PUBLIC KEY', idDer) +
    `ntor-onion-key ${Buffer.from(r.ntorOnionKey).toString('base64')}\n` +
    'reject *:*\n' +
    'router-signature\n'
  return body + armour('SIGNATURE', rsaSignDigest(keys.rsaIdentity, sha1(body)))
}

// ---------------------------------------------------------------------------------------------
// Microdescriptors

/**
 * A relay's microdescriptor, items in dir-spec's order (onion-key, ntor-onion-key, family, p, id).
 * The onion-key item opens every microdescriptor but its TAP key is optional and obsolete; sim
 * relays have none, so the item stands alone.
 */
export function microdescriptor(r: DirRelayEntry): string {
  checkRelay(r)
  let md = 'onion-key\n' + `ntor-onion-key ${b64NoPad(r.ntorOnionKey)}\n`
  if (r.family?.length) md += `family ${r.family.join(' ')}\n`
  if (r.exitPorts !== undefined) md += `p ${r.exitPorts}\n`
  return md + `id ed25519 ${b64NoPad(r.ed25519Id)}\n`
}

/** SHA-256 of a microdescriptor's text, base64 without '=' (the consensus m line, /tor/micro/d/ URLs). */
export function microdescDigest(text: string): string {
  return b64NoPad(sha256(text))
}

// ---------------------------------------------------------------------------------------------
// The consensus

function protocolsText(m: ReadonlyMap<string, ReadonlySet<number>>): string {
  return [...m.keys()]
    .sort()
    .map((name) => {
      const vs = [...m.get(name)!].sort((x, y) => x - y)
      const ranges: string[] = []
      for (let i = 0; i < vs.length; ) {
        let j = i
        while (j + 1 < vs.length && vs[j + 1] === vs[j] + 1) j++
        ranges.push(i === j ? `${vs[i]}` : `${vs[i]}-${vs[j]}`)
        i = j + 1
      }
      return `${name}=${ranges.join(',')}`
    })
    .join(' ')
}

const CLIENT_PROTOCOLS = protocolsText(SUPPORTED_PROTOCOLS)

function keyValueLine(kw: string, kv: Record<string, number>, what: string): string {
  const keys = Object.keys(kv).sort()
  for (const k of keys) {
    checkKeyword(k, what)
    checkInt32(kv[k], `${what} ${k}`)
  }
  return `${kw} ${keys.map((k) => `${k}=${kv[k]}`).join(' ')}\n`
}

/**
 * The consensus up to (not including) its signatures, laid out as tor 0.4.9 writes one (dir-spec
 * "consensus-formats"): header, dir-source per authority sorted by v3ident, one entry per relay
 * sorted by RSA identity, footer. `mdDigests[i]` is relay i's microdescriptor digest.
 */
function consensusBody(auths: AuthorityKeys[], relays: DirRelayEntry[], mdDigests: string[], opts: ConsensusOptions): string {
  const va = opts.validAfterMs
  const fresh = opts.freshMs ?? HOUR
  const valid = opts.validMs ?? 3 * HOUR
  if (!(fresh > 0 && valid >= fresh)) bad(`consensus lifetime: fresh ${fresh} ms, valid ${valid} ms`)
  const knownFlags = [...new Set([...BASE_KNOWN_FLAGS, ...relays.flatMap((r) => r.flags)])].sort()
  let t =
    'network-status-version 3 microdesc\n' +
    'vote-status consensus\n' +
    `consensus-method ${CONSENSUS_METHOD}\n` +
    `valid-after ${formatDirTime(va)}\n` +
    `fresh-until ${formatDirTime(va + fresh)}\n` +
    `valid-until ${formatDirTime(va + valid)}\n` +
    // VoteSeconds DistSeconds: the public network's 300 s each; nothing votes in the sim.
    'voting-delay 300 300\n' +
    'client-versions\n' +
    'server-versions\n' +
    `known-flags ${knownFlags.join(' ')}\n` +
    `recommended-client-protocols ${CLIENT_PROTOCOLS}\n` +
    `recommended-relay-protocols ${REQUIRED_RELAY_PROTOCOLS}\n` +
    `required-client-protocols ${REQUIRED_CLIENT_PROTOCOLS}\n` +
    `required-relay-protocols ${REQUIRED_RELAY_PROTOCOLS}\n`
  if (opts.params && Object.keys(opts.params).length > 0) t += keyValueLine('params', opts.params, 'params')

  const entries = relays.map((r, i) => ({ r, md: mdDigests[i] })).sort((x, y) => compareBytes(x.r.rsaId, y.r.rsaId))
  for (let i = 1; i < entries.length; i++) {
    if (compareBytes(entries[i - 1].r.rsaId, entries[i].r.rsaId) === 0) bad(`relays ${entries[i - 1].r.nickname} and ${entries[i].r.nickname} share an RSA identity`)
  }
  let routers = ''
  for (const { r, md } of entries) {
    routers +=
      `r ${r.nickname} ${b64NoPad(r.rsaId)} ${R_PUBLISHED} ${r.address} ${r.orPort} 0\n` +
      `m ${md}\n` +
      `s ${[...new Set(r.flags)].sort().join(' ')}\n` +
      `v ${r.version ?? SIM_RELAY_VERSION}\n` +
      `pr ${r.protocols ?? CLIENT_PROTOCOLS}\n` +
      `w Bandwidth=${r.bandwidth}\n`
  }

  // A consensus carries each voter's vote-digest. Nothing votes in the sim, so the digest named is
  // SHA-1 of the router-status section every authority's vote would have agreed on.
  const voteDigest = hexUpper(sha1(routers))
  const sources = auths.map((a) => ({ a, id: authorityV3Ident(a) })).sort((x, y) => compareBytes(x.id, y.id))
  for (const { a, id } of sources) {
    t += `dir-source ${a.nickname} ${hexUpper(id)} ${a.address} ${a.address} ${a.dirPort} ${a.orPort}\n` + `contact ${a.nickname}@sim.invalid\n` + `vote-digest ${voteDigest}\n`
  }
  t += routers
  const weights = opts.bandwidthWeights ?? Object.fromEntries(WEIGHT_NAMES.map((w) => [w, 10000]))
  return t + 'directory-footer\n' + keyValueLine('bandwidth-weights', weights, 'bandwidth-weights')
}

/**
 * Appends one "directory-signature sha256" per authority, sorted by v3ident (dir-spec: signatures
 * are sorted by identity digest). Each signs SHA-256 of the document from its first byte through
 * the space after the first "directory-signature", so every authority signs the same digest.
 */
function signConsensus(body: string, auths: AuthorityKeys[]): string {
  const digest = sha256(body + 'directory-signature ')
  const signers = auths.map((a) => ({ a, id: authorityV3Ident(a) })).sort((x, y) => compareBytes(x.id, y.id))
  let sigs = ''
  for (const { a, id } of signers) {
    sigs += `directory-signature sha256 ${hexUpper(id)} ${hexUpper(signingKeyDigest(a))}\n` + armour('SIGNATURE', rsaSignDigest(a.signing, digest))
  }
  return body + sigs
}

export function buildDirectoryDocs(auths: AuthorityKeys[], relays: DirRelayEntry[], opts: ConsensusOptions): DirectoryDocs {
  if (auths.length === 0) bad('a consensus needs at least one authority')
  auths.forEach(checkAuthority)
  const ids = new Set(auths.map((a) => toHex(authorityV3Ident(a))))
  if (ids.size !== auths.length) bad('two authorities share an identity key')
  const mdTexts = relays.map(microdescriptor)
  const mdDigests = mdTexts.map(microdescDigest)
  const microdescs = new Map<string, string>()
  mdTexts.forEach((t, i) => microdescs.set(mdDigests[i], t))
  const consensus = signConsensus(consensusBody(auths, relays, mdDigests, opts), auths)
  const expires = opts.validAfterMs + (opts.certLifetimeMs ?? 365 * 24 * HOUR)
  const authorityCerts = auths.map((a) => authorityCertificate(a, opts.validAfterMs, expires)).join('')
  return { authorityCerts, consensus, microdescs }
}

// ---------------------------------------------------------------------------------------------
// Serving (dir-spec "client-operation": the URLs a bootstrapping client asks for)

const CERT_START = /^dir-key-certificate-version /gm

function certsByFingerprint(all: string): Map<string, string> {
  const starts: number[] = []
  CERT_START.lastIndex = 0
  for (let m = CERT_START.exec(all); m; m = CERT_START.exec(all)) starts.push(m.index)
  const out = new Map<string, string>()
  starts.forEach((s, i) => {
    const cert = all.slice(s, starts[i + 1] ?? all.length)
    const fp = /^fingerprint ([0-9A-Fa-f]{40})$/m.exec(cert)
    if (fp) out.set(fp[1].toUpperCase(), cert)
  })
  return out
}

/** v3idents (uppercase hex) of the consensus's signers. */
function consensusSigners(consensus: string): string[] {
  return [...consensus.matchAll(/^directory-signature (?:\S+ )?([0-9A-Fa-f]{40}) [0-9A-Fa-f]{40}$/gm)].map((m) => m[1].toUpperCase())
}

const NOT_FOUND = { status: 404, body: '' }

/**
 * Answers one GET path: /tor/keys/all, /tor/keys/fp/<F1>+<F2>..., the microdesc consensus (also
 * the /<F1>+<F2>... form, 404 unless more than half of the named authorities signed — fingerprints
 * may be prefixes, as dir-spec allows), /tor/micro/d/<D1>-<D2>... . Only what we hold is served;
 * nothing at all is a 404. Compressed (".z") variants are not offered.
 */
export function serveDirectoryRequest(docs: DirectoryDocs, path: string): { status: number; body: string } {
  const q = path.indexOf('?')
  const p = q < 0 ? path : path.slice(0, q)
  if (p === '/tor/keys/all') return docs.authorityCerts ? { status: 200, body: docs.authorityCerts } : NOT_FOUND
  if (p.startsWith('/tor/keys/fp/')) {
    const wanted = p.slice('/tor/keys/fp/'.length).split('+')
    if (!wanted.every((f) => /^[0-9A-Fa-f]{40}$/.test(f))) return { status: 400, body: '' }
    const certs = certsByFingerprint(docs.authorityCerts)
    const found = [...new Set(wanted.map((f) => f.toUpperCase()))].flatMap((f) => certs.get(f) ?? [])
    return found.length ? { status: 200, body: found.join('') } : NOT_FOUND
  }
  const CONS = '/tor/status-vote/current/consensus-microdesc'
  if (p === CONS) return { status: 200, body: docs.consensus }
  if (p.startsWith(CONS + '/')) {
    const wanted = p.slice(CONS.length + 1).split('+')
    if (!wanted.every((f) => /^(?:[0-9A-Fa-f]{2}){1,20}$/.test(f))) return { status: 400, body: '' }
    const signers = consensusSigners(docs.consensus)
    const signedBy = wanted.filter((f) => signers.some((s) => s.startsWith(f.toUpperCase()))).length
    return signedBy > wanted.length / 2 ? { status: 200, body: docs.consensus } : NOT_FOUND
  }
  if (p.startsWith('/tor/micro/d/')) {
    const wanted = p.slice('/tor/micro/d/'.length).split('-')
    const found = [...new Set(wanted)].flatMap((d) => docs.microdescs.get(d.replace(/=+$/, '')) ?? [])
    return found.length ? { status: 200, body: found.join('') } : NOT_FOUND
  }
  return NOT_FOUND
}

/** A directory request is one short line; anything bigger is not a client of ours. */
export const DIRPORT_HEAD_LIMITS = { maxHeadBytes: 16 * 1024, maxHeaders: 32, maxLineBytes: 12 * 1024 }
/** A connection that has not finished its request head by then is closed. */
export const DIRPORT_REQUEST_TIMEOUT_MS = 30_000

function answer(conn: Conn, status: number, body: string): void {
  const r = dirResponseBytes(status, body)
  conn.end(Buffer.concat([r.head, r.body]))
}

/**
 * A DirPort on `world.net`: one GET per connection (HTTP/1.0 style), answered from `docs()` at
 * the time of the request, with Content-Length, then the connection is closed.
 */
export function serveDirPort(world: World, port: number, docs: () => DirectoryDocs): Promise<Listener> {
  return world.net.listen(port, (conn) => {
    conn.on('error', () => {})
    let buffered: Uint8Array = new Uint8Array(0)
    let done = false
    const timer = world.setTimer(DIRPORT_REQUEST_TIMEOUT_MS, () => {
      if (!done) {
        done = true
        conn.destroy()
      }
    })
    const finish = (status: number, body: string) => {
      done = true
      timer.cancel()
      conn.off('data', onData)
      answer(conn, status, body)
    }
    const onData = (d: Buffer) => {
      if (done) return
      buffered = concatBytes(buffered, new Uint8Array(d))
      let head
      try {
        head = parseRequestHead(buffered, DIRPORT_HEAD_LIMITS).head
      } catch (e) {
        if (isTruncated(e)) return
        if (e instanceof WireError) return finish(400, '')
        throw e
      }
      if (head.method !== 'GET') return finish(405, '')
      const r = serveDirectoryRequest(docs(), head.target)
      world.trace('dirport-request', { path: head.target.slice(0, 80), status: r.status, bytes: r.body.length })
      finish(r.status, r.body)
    }
    conn.on('data', onData)
    conn.on('close', () => {
      done = true
      timer.cancel()
    })
  })
}

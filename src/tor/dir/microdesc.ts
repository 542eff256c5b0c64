// Microdescriptors (dir-spec §3.3): each starts at an "onion-key" line; its digest is SHA-256 of
// its text, and only a microdescriptor whose digest some consensus entry names is used (that is
// how they are authenticated). We take the ntor onion key, the Ed25519 identity, the family and
// the IPv4 exit policy summary.

import { WireError } from '../../wire/bytes.js'
import { base64Exact, intArg, tokenize } from './netdoc.js'
import { sha256 } from './rsa.js'

export interface PortRange {
  lo: number
  hi: number
}

export interface ExitPolicySummary {
  accept: boolean
  ranges: PortRange[]
}

export interface Microdesc {
  /** SHA-256 of the text, base64 without '='. */
  digest: string
  ntorOnionKey: Uint8Array
  ed25519Id?: Uint8Array
  family: string[]
  familyIds: string[]
  /** "p" line; absent means reject all. */
  policy: ExitPolicySummary
}

export function parsePolicySummary(args: string[]): ExitPolicySummary {
  const [kind, list] = args
  if ((kind !== 'accept' && kind !== 'reject') || list === undefined) throw new WireError('bad-value', 'p line')
  const ranges = list.split(',').map((r) => {
    const [lo, hi = lo] = r.split('-')
    const range = { lo: intArg(lo, 'p port', 1, 65535), hi: intArg(hi, 'p port', 1, 65535) }
    if (range.hi < range.lo) throw new WireError('bad-value', `p range ${r}`)
    return range
  })
  return { accept: kind === 'accept', ranges }
}

export function policyAllowsPort(p: ExitPolicySummary, port: number): boolean {
  const inList = p.ranges.some((r) => port >= r.lo && port <= r.hi)
  return p.accept ? inList : !inList
}

const REJECT_ALL: ExitPolicySummary = { accept: false, ranges: [{ lo: 1, hi: 65535 }] }

/** A concatenation of microdescriptors cut into each one's text (the digest covers exactly that). */
export function splitMicrodescs(text: string): string[] {
  const starts: number[] = []
  const re = /^onion-key(?: |\n)/gm
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push(m.index)
  if (starts.length === 0 && text.trim() !== '') throw new WireError('bad-value', 'microdescriptors: no onion-key line')
  return starts.map((s, i) => text.slice(s, starts[i + 1] ?? text.length))
}

export function parseMicrodescs(text: string): Microdesc[] {
  return splitMicrodescs(text).map(parseMicrodesc)
}

export function parseMicrodesc(text: string): Microdesc {
  const items = tokenize(text, 'microdescriptor')
  let ntor: Uint8Array | undefined
  let ed25519Id: Uint8Array | undefined
  let family: string[] = []
  let familyIds: string[] = []
  let policy = REJECT_ALL
  for (const it of items) {
    if (it.keyword === 'ntor-onion-key') ntor = base64Exact(it.args[0], 32, 'ntor-onion-key')
    else if (it.keyword === 'id' && it.args[0] === 'ed25519') ed25519Id = base64Exact(it.args[1], 32, 'id ed25519')
    else if (it.keyword === 'family') family = it.args
    else if (it.keyword === 'family-ids') familyIds = it.args
    else if (it.keyword === 'p') policy = parsePolicySummary(it.args)
  }
  if (!ntor) throw new WireError('bad-value', 'microdescriptor without ntor-onion-key')
  return { digest: Buffer.from(sha256(text)).toString('base64').replace(/=+$/, ''), ntorOnionKey: ntor, ed25519Id, family, familyIds, policy }
}

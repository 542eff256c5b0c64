// SSLKEYLOGFILE, the NSS key log format (as documented by NSS/MDN and read by Wireshark):
// one "<LABEL> <client_random hex> <secret hex>" per line, '#' comments and blank lines ignored.
// TLS 1.2 uses CLIENT_RANDOM (the 48-byte master secret); TLS 1.3 one line per traffic secret.

import { fromHex, toHex, WireError } from './bytes.js'

export const KEYLOG_LABELS = [
  'CLIENT_RANDOM',
  'CLIENT_EARLY_TRAFFIC_SECRET',
  'EARLY_EXPORTER_SECRET',
  'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  'CLIENT_TRAFFIC_SECRET_0',
  'SERVER_TRAFFIC_SECRET_0',
  'EXPORTER_SECRET',
] as const
export type KeylogLabel = (typeof KEYLOG_LABELS)[number]

export interface KeylogLine {
  label: KeylogLabel
  clientRandom: Uint8Array
  secret: Uint8Array
}

/** The secrets logged for one connection, keyed by label. */
export type KeylogSecrets = Partial<Record<KeylogLabel, Uint8Array>>

const known = new Set<string>(KEYLOG_LABELS)
const HEX = /^[0-9a-fA-F]+$/

/**
 * Parses one line; returns undefined for comments, blank lines and well-formed lines with a label
 * we do not use (e.g. "RSA", newer labels), so a keylog written by a newer library still loads.
 */
export function parseKeylogLine(line: string, lineNumber: number): KeylogLine | undefined {
  const text = line.trim()
  if (text === '' || text.startsWith('#')) return undefined
  const fields = text.split(/\s+/)
  const bad = (why: string): WireError => new WireError('bad-value', `keylog line ${lineNumber}: ${why}`)
  if (fields.length !== 3) throw bad(`expected 3 fields, got ${fields.length}`)
  const [label, randomHex, secretHex] = fields
  if (!/^[A-Z0-9_]+$/.test(label)) throw bad(`malformed label`)
  if (!HEX.test(randomHex) || !HEX.test(secretHex) || randomHex.length % 2 || secretHex.length % 2) throw bad('field is not hex')
  if (!known.has(label)) return undefined
  const clientRandom = fromHex(randomHex)
  const secret = fromHex(secretHex)
  if (clientRandom.length !== 32) throw bad(`client random is ${clientRandom.length} bytes, not 32`)
  if (label === 'CLIENT_RANDOM' ? secret.length !== 48 : secret.length < 32 || secret.length > 64) {
    throw bad(`${label} secret of ${secret.length} bytes`)
  }
  return { label: label as KeylogLabel, clientRandom, secret }
}

/** Parses a whole key log into a Map from client random (lower-case hex) to its secrets. */
export function parseKeylog(text: string): Map<string, KeylogSecrets> {
  const out = new Map<string, KeylogSecrets>()
  text.split(/\r?\n/).forEach((line, i) => {
    const entry = parseKeylogLine(line, i + 1)
    if (!entry) return
    const key = toHex(entry.clientRandom)
    const secrets = out.get(key) ?? {}
    secrets[entry.label] = entry.secret
    out.set(key, secrets)
  })
  return out
}

export function formatKeylogLine(label: KeylogLabel, clientRandom: Uint8Array, secret: Uint8Array): string {
  return `${label} ${toHex(clientRandom)} ${toHex(secret)}`
}

/** Formats all secrets of all connections, one line each, in KEYLOG_LABELS order, newline-terminated. */
export function formatKeylog(entries: ReadonlyMap<string, KeylogSecrets>): string {
  let out = ''
  for (const [randomHex, secrets] of entries) {
    for (const label of KEYLOG_LABELS) {
      const s = secrets[label]
      if (s) out += formatKeylogLine(label, fromHex(randomHex), s) + '\n'
    }
  }
  return out
}

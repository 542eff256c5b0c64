// Traffic secrets of one connection, from node:tls's 'keylog' event (NSS key log format:
// "LABEL <client_random hex> <secret hex>\n"). Parsed straight from the Buffer so no secret
// ever becomes a JS string; the caller wipes them once the kernel has the keys.

import { Reader, WireError } from '../wire/bytes.js'

export interface KeylogEntry {
  label: string
  clientRandom: Uint8Array
  secret: Uint8Array
}

const MAX_LINE = 512

function hexNibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  return -1
}

function hexField(line: Uint8Array, from: number, to: number, what: string): Uint8Array {
  const n = to - from
  if (n === 0 || n % 2 !== 0) throw new WireError('bad-length', `keylog ${what}: odd or empty hex`)
  const out = new Uint8Array(n / 2)
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(line[from + 2 * i])
    const lo = hexNibble(line[from + 2 * i + 1])
    if (hi < 0 || lo < 0) throw new WireError('bad-value', `keylog ${what}: not hex`)
    out[i] = (hi << 4) | lo
  }
  return out
}

/** One key log line (trailing "\n" optional). Labels are [A-Z0-9_]; the client random is 32 bytes. */
export function parseKeylogLine(line: Uint8Array): KeylogEntry {
  if (line.length > MAX_LINE) throw new WireError('too-large', 'keylog line too long')
  let end = line.length
  if (end > 0 && line[end - 1] === 0x0a) end--
  const sp1 = line.indexOf(0x20)
  const sp2 = sp1 < 0 ? -1 : line.indexOf(0x20, sp1 + 1)
  if (sp1 <= 0 || sp2 < 0 || sp2 >= end) throw new WireError('bad-value', 'keylog line: expected three fields')
  let label = ''
  for (let i = 0; i < sp1; i++) {
    const c = line[i]
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f)) throw new WireError('bad-value', 'keylog label: bad character')
    label += String.fromCharCode(c)
  }
  const clientRandom = hexField(line, sp1 + 1, sp2, 'client random')
  if (clientRandom.length !== 32) throw new WireError('bad-length', 'keylog client random is not 32 bytes')
  const secret = hexField(line, sp2 + 1, end, 'secret')
  return { label, clientRandom, secret }
}

/** Everything the kernel handover needs, gathered from one socket's key log lines. */
export class ConnectionSecrets {
  private readonly entries = new Map<string, KeylogEntry>()

  add(line: Uint8Array): void {
    const e = parseKeylogLine(line)
    this.entries.get(e.label)?.secret.fill(0)
    this.entries.set(e.label, e)
  }

  /** TLS 1.3 application traffic secrets (RFC 8446 §7.1: *_application_traffic_secret_0). */
  tls13(): { client: Uint8Array; server: Uint8Array } | undefined {
    const c = this.entries.get('CLIENT_TRAFFIC_SECRET_0')
    const s = this.entries.get('SERVER_TRAFFIC_SECRET_0')
    return c && s ? { client: c.secret, server: s.secret } : undefined
  }

  /** TLS 1.2 master secret and the client random it was logged under. */
  tls12(): { clientRandom: Uint8Array; masterSecret: Uint8Array } | undefined {
    const e = this.entries.get('CLIENT_RANDOM')
    return e && e.secret.length === 48 ? { clientRandom: e.clientRandom, masterSecret: e.secret } : undefined
  }

  wipe(): void {
    for (const e of this.entries.values()) e.secret.fill(0)
    this.entries.clear()
  }
}

/**
 * Subscribes to 'keylog' on a kTLS-candidate socket. `alsoWrite` receives each line first (for
 * --sslkeylog); then the Buffer is zeroed so the secret does not linger in Node's memory.
 */
export function collectSecrets(socket: { on(event: 'keylog', fn: (line: Buffer) => void): unknown }, alsoWrite?: (line: Buffer) => void): ConnectionSecrets {
  const secrets = new ConnectionSecrets()
  socket.on('keylog', (line: Buffer) => {
    alsoWrite?.(Buffer.from(line))
    try {
      secrets.add(line)
    } finally {
      line.fill(0)
    }
  })
  return secrets
}

/**
 * ServerHello.random from the first server handshake record (RFC 5246 §7.4.1.3 / RFC 8446 §4.1.3):
 * record header, then msg_type 2, uint24 length, legacy_version, random[32]. TLS 1.2 key expansion needs it.
 */
export function serverRandomFromRecord(record: Uint8Array): Uint8Array {
  const r = new Reader(record, 'ServerHello record')
  if (r.u8() !== 22) throw new WireError('bad-value', 'first server record is not a handshake record')
  r.u16()
  const body = r.vec16()
  if (body.u8() !== 2) throw new WireError('bad-value', 'first handshake message is not a ServerHello')
  const msg = body.vec24()
  msg.u16()
  return msg.bytes(32).slice()
}

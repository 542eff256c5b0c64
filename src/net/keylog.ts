// Collects TLS secrets as SSLKEYLOGFILE lines ("CLIENT_HANDSHAKE_TRAFFIC_SECRET <client_random> <secret>"
// …, the NSS key log format Wireshark reads) from every endpoint of a run, so a capture of the run
// can be decrypted. Owned by the network (sim) or the live World; TLS code only calls add().

import { appendFileSync, writeFileSync } from 'node:fs'

export class KeylogSink {
  private readonly lines: string[] = []
  private readonly seen = new Set<string>()
  private file: string | undefined

  /** Adds one line (a trailing newline is dropped); duplicates from both ends are kept once. */
  add(line: string | Uint8Array): void {
    const text = (typeof line === 'string' ? line : Buffer.from(line).toString('latin1')).replace(/\r?\n$/, '')
    if (text === '' || this.seen.has(text)) return
    this.seen.add(text)
    this.lines.push(text)
    if (this.file) appendFileSync(this.file, text + '\n')
  }

  /** From now on, mirror every line into `path` (existing lines are written first). */
  writeTo(path: string): void {
    this.file = path
    writeFileSync(path, this.lines.map((l) => l + '\n').join(''))
  }

  all(): readonly string[] {
    return this.lines
  }
}

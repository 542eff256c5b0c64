// The World: everything protocol code may take from outside itself. Protocol code is handed one
// and never reaches for Date.now, setTimeout, Math.random, crypto.randomBytes or node:net itself;
// that is what lets the same code run live and, byte for byte reproducibly, in the simulator.

import type { Duplex } from 'node:stream'

export interface Timer {
  cancel(): void
}

/**
 * A byte-stream connection. In live mode it is a node:net Socket, in sim a virtual TCP
 * connection; both are Duplex streams, so node:tls can run over either.
 */
export type Conn = Duplex & {
  readonly remoteAddress?: string | undefined
  readonly remotePort?: number | undefined
  readonly localAddress?: string | undefined
  readonly localPort?: number | undefined
  setNoDelay?(noDelay?: boolean): unknown
}

export interface Listener {
  readonly host: string
  readonly port: number
  close(): Promise<void>
}

/** Errors from Net carry the errno-style code a socket would give (ECONNREFUSED, ECONNRESET …). */
export class NetError extends Error {
  override readonly name = 'NetError'
  constructor(
    readonly code: string,
    detail: string,
  ) {
    super(`${code}: ${detail}`)
  }
}

export interface Net {
  /** Opens a TCP connection; resolves once established, rejects with a NetError. */
  connect(host: string, port: number): Promise<Conn>
  /** Listens on host:port (port 0 = any free port); calls `onConn` for each accepted connection. */
  listen(port: number, onConn: (conn: Conn) => void, host?: string): Promise<Listener>
}

export interface World {
  /** Milliseconds; virtual in sim, wall-clock in live. */
  now(): number
  /** Calls `fn` after `ms` of this world's time. */
  setTimer(ms: number, fn: () => void): Timer
  /** `n` random bytes: seeded in sim, crypto.getRandomValues live. */
  random(n: number): Uint8Array
  net: Net
  /** Structured trace of what happened; sim hashes it for the determinism check. */
  trace(event: string, detail?: Record<string, unknown>): void
  /**
   * Where TLS endpoints report their secrets (one SSLKEYLOGFILE line each), so a tapped run can be
   * decrypted; absent when nobody collects them.
   */
  keylog?(line: string): void
}

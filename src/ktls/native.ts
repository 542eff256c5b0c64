// Lazy, crash-proof access to the kTLS addon (native/). If it is not built or cannot load, callers
// get a reason string for the fallback report instead of an exception.

import { createRequire } from 'node:module'
import { constants } from 'node:os'
import { fileURLToPath } from 'node:url'

export interface KtlsAddon {
  probe(): { ulp: number; suites: Record<string, number> }
  setUlp(fd: number): number
  getUlp(fd: number): string
  /** errno (0 = ok). The bytes are wiped by the addon after the call. */
  setCryptoInfo(fd: number, dir: number, bytes: Uint8Array): number
  /** bytes sent, or -errno. */
  sendmsg(fd: number, bytes: Uint8Array, recordType: number): number
  recvmsg(fd: number, buf: Uint8Array): { n: number; recordType: number; errno: number }
  layout(): Record<string, number>
  /** A libuv poll handle on fd; cb runs on the JS thread with (status, events). events: 1 readable, 2 writable. */
  pollStart(fd: number, events: number, cb: (status: number, events: number) => void): PollHandle
  /** 0, or a negative libuv error (e.g. UV_EEXIST when another handle watches the fd). */
  pollUpdate(handle: PollHandle, events: number): number
  pollClose(handle: PollHandle): void
  /** new fd, or -errno */
  dup(fd: number): number
  close(fd: number): number
  /**
   * An io_uring on fd (uring.cc): completions call cb on the JS thread with kind 1 (recvmsg: res =
   * bytes or -errno, the record type, a copy of the bytes) or 2 (sendmsg: res = bytes sent or -errno).
   * A failed setup returns the step and its errno.
   */
  uringOpen(fd: number, cb: (kind: number, res: number, recordType: number, data?: Buffer) => void): UringHandle | { step: string; errno: number }
  /** 0, or an errno (EBUSY: a recvmsg is already in flight). */
  uringRecv(ring: UringHandle): number
  /** Bytes queued (the front of `bytes`, at most 256 KiB), or -errno. */
  uringSend(ring: UringHandle, bytes: Uint8Array, recordType: number): number
  uringClose(ring: UringHandle): void
  uringStats(ring: UringHandle): { enters?: number; wakeups?: number; completions?: number }
}

declare const pollHandle: unique symbol
export type PollHandle = { readonly [pollHandle]: true }
declare const uringHandle: unique symbol
export type UringHandle = { readonly [uringHandle]: true }

export type AddonLoad = { ok: true; addon: KtlsAddon } | { ok: false; reason: string }

export const ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/sultry_ktls.node', import.meta.url))

let cached: AddonLoad | undefined

export function loadAddon(path = ADDON_PATH): AddonLoad {
  if (path === ADDON_PATH && cached) return cached
  let result: AddonLoad
  try {
    const addon = createRequire(import.meta.url)(path) as KtlsAddon
    for (const f of ['probe', 'setUlp', 'setCryptoInfo', 'sendmsg', 'recvmsg'] as const) {
      if (typeof addon[f] !== 'function') throw new Error(`missing export ${f}`)
    }
    result = { ok: true, addon }
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e)
    result = { ok: false, reason: `addon not built: ${msg} (run: make native)` }
  }
  if (path === ADDON_PATH) cached = result
  return result
}

// Aliases share a number (EAGAIN/EWOULDBLOCK, ENOTSUP/EOPNOTSUPP): the first listed name wins.
const errnoNames = new Map<number, string>()
for (const [name, n] of Object.entries(constants.errno)) if (!errnoNames.has(n)) errnoNames.set(n, name)

export function errnoName(n: number): string {
  return errnoNames.get(n) ?? `errno ${n}`
}

// Test-only: a real peer process (openssl, nginx, sultry, ...) started by a test, ready once a
// pattern shows in its output, and stopped by kill(). The shared base of lab/peers/.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export function tempDir(prefix = 'sultry-lab-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export interface Peer {
  port: number
  proc: ChildProcess
  output(): string
  kill(): Promise<void>
}

/** Spawns and waits until `ready` appears in its stdout/stderr (or rejects on exit/timeout). */
export function startProcess(cmd: string, args: string[], opts: { cwd?: string; ready?: RegExp; port: number; timeoutMs?: number }): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd: opts.cwd ?? repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`${cmd} not ready within ${opts.timeoutMs ?? 20000} ms:\n${out}`))
    }, opts.timeoutMs ?? 20000)
    const onOut = (d: Buffer) => {
      out += d.toString()
      if (opts.ready?.test(out)) {
        clearTimeout(timer)
        resolve(peer)
      }
    }
    proc.stdout!.on('data', onOut)
    proc.stderr!.on('data', onOut)
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${cmd} exited with ${code}:\n${out}`))
    })
    if (!opts.ready) {
      clearTimeout(timer)
      queueMicrotask(() => resolve(peer))
    }
    const peer: Peer = {
      port: opts.port,
      proc,
      output: () => out,
      kill: async () => void (await stopChild(proc, 3000)),
    }
  })
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. A child that already
 * exited by a signal has exitCode null, so both codes are checked (waiting for its 'exit' again
 * would never end). Returns how it ended, for the test's log.
 */
export function stopChild(proc: ChildProcess, graceMs = 10_000): Promise<'gone' | 'term' | 'kill'> {
  return new Promise((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return r('gone')
    let how: 'term' | 'kill' = 'term'
    const timer = setTimeout(() => {
      how = 'kill'
      proc.kill('SIGKILL')
    }, graceMs)
    proc.once('exit', () => {
      clearTimeout(timer)
      r(how)
    })
    proc.kill('SIGTERM')
  })
}

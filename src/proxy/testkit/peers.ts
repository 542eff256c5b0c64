// Test-only: real peers on 127.0.0.1 (openssl s_server, nginx, curl, tcpdump, sultry child
// processes), each started by the test and stopped by the returned kill().

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

export function tempDir(prefix = 'sultry-proxy-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
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
      kill: () =>
        new Promise<void>((r) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return r()
          proc.once('exit', () => r())
          proc.kill('SIGTERM')
          setTimeout(() => proc.kill('SIGKILL'), 3000).unref()
        }),
    }
  })
}

export async function opensslServer(dir: string, cert: string, key: string, extra: string[] = []): Promise<Peer> {
  const port = await freePort()
  writeFileSync(join(dir, 'c.pem'), cert)
  writeFileSync(join(dir, 'k.pem'), key)
  return startProcess('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', 'c.pem', '-key', 'k.pem', '-WWW', '-naccept', '1000', ...extra], { cwd: dir, ready: /ACCEPT/, port })
}

export async function nginxServer(dir: string, cert: string, key: string): Promise<Peer> {
  const port = await freePort()
  writeFileSync(join(dir, 'c.pem'), cert)
  writeFileSync(join(dir, 'k.pem'), key)
  mkdirSync(join(dir, 'tmp'), { recursive: true })
  const conf = `user root;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  server {
    listen 127.0.0.1:${port} ssl;
    server_name server.lab.test;
    ssl_certificate ${dir}/c.pem;
    ssl_certificate_key ${dir}/k.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root ${dir};
  }
}
`
  writeFileSync(join(dir, 'nginx.conf'), conf)
  const peer = await startProcess('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { port })
  await waitForPort(port)
  return peer
}

export async function waitForPort(port: number, timeoutMs = 10000): Promise<void> {
  const t0 = Date.now()
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => (s.destroy(), r(true)))
      s.once('error', () => r(false))
    })
    if (ok) return
    if (Date.now() - t0 > timeoutMs) throw new Error(`port ${port} not open`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export interface CurlResult {
  code: number
  stdout: Buffer
  stderr: string
}

export function curl(args: string[], timeoutMs = 20000): Promise<CurlResult> {
  return new Promise((resolve) => {
    const p = spawn('curl', ['-sS', '--max-time', String(Math.ceil(timeoutMs / 1000)), ...args])
    const out: Buffer[] = []
    let err = ''
    p.stdout.on('data', (d: Buffer) => out.push(d))
    p.stderr.on('data', (d: Buffer) => (err += d.toString()))
    p.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }))
  })
}

/** tcpdump on lo for one port, writing classic pcap; stop() waits until the file is complete. */
export async function tcpdump(file: string, port: number): Promise<{ stop(): Promise<void> }> {
  const p = spawn('tcpdump', ['-i', 'lo', '-U', '--immediate-mode', '-B', '32768', '-n', '-s', '0', '-w', file, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] })
  await new Promise<void>((resolve, reject) => {
    let err = ''
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString()
      if (/listening on/.test(err)) resolve()
    })
    p.once('exit', (c) => reject(new Error(`tcpdump exited ${c}: ${err}`)))
  })
  return {
    stop: () =>
      new Promise<void>((r) => {
        p.once('exit', () => r())
        // Let the last packets reach the file; tcpdump flushes and closes it on SIGTERM.
        setTimeout(() => p.kill('SIGTERM'), 300)
      }),
  }
}

/** A fresh P-256 lab CA and a leaf for `names`, made with the openssl CLI (Chromium refuses Ed25519). */
export function makeLabCa(dir: string, names: string[]): { caCert: string; cert: string; key: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  run(['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=sultry test CA', '-keyout', 'ca.key', '-out', 'ca.crt'])
  run(['req', ...ec, '-subj', `/CN=${names[0]}`, '-keyout', 'leaf.key', '-out', 'leaf.csr'])
  writeFileSync(join(dir, 'leaf.ext'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\n`)
  run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'leaf.ext', '-out', 'leaf.crt'])
  return { caCert: readFileSync(join(dir, 'ca.crt'), 'utf8'), cert: readFileSync(join(dir, 'leaf.crt'), 'utf8'), key: readFileSync(join(dir, 'leaf.key'), 'utf8') }
}

/** Headless Chromium through `proxy`, trusting the leaf by SPKI pin; resolves with the DOM it loaded. */
export function chromiumDump(url: string, proxy: string, spkiSha256: string, profileDir: string): Promise<{ dom: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', `--proxy-server=${proxy}`, `--ignore-certificate-errors-spki-list=${spkiSha256}`, `--user-data-dir=${profileDir}`, '--dump-dom', url])
    let dom = ''
    let stderr = ''
    p.stdout.on('data', (d: Buffer) => (dom += d.toString()))
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const t = setTimeout(() => p.kill('SIGKILL'), 60000)
    p.on('close', () => (clearTimeout(t), resolve({ dom, stderr })))
  })
}

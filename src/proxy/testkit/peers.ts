// Test-only: real peers on 127.0.0.1 (openssl s_server, nginx, curl, tcpdump, sultry child
// processes), each started by the test and stopped by the returned kill().

import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeLabCa as makeSharedLabCa } from '../../../lab/peers/pki.js'
import { startNginx } from '../../../lab/peers/nginx.js'
import { freePort } from '../../../lab/peers/port.js'
import { type Peer, repoRoot, startProcess, tempDir as labTempDir } from '../../../lab/peers/process.js'
import { startSServer } from '../../../lab/peers/s-server.js'

export { freePort, repoRoot, startProcess, type Peer }

export function tempDir(prefix = 'sultry-proxy-'): string {
  return labTempDir(prefix)
}

export async function opensslServer(dir: string, cert: string, key: string, extra: string[] = []): Promise<Peer> {
  writeFileSync(join(dir, 'c.pem'), cert)
  writeFileSync(join(dir, 'k.pem'), key)
  return startSServer({ certFile: 'c.pem', keyFile: 'k.pem', args: ['-WWW', '-naccept', '1000', ...extra], cwd: dir })
}

export async function nginxServer(dir: string, cert: string, key: string): Promise<Peer> {
  const port = await freePort()
  writeFileSync(join(dir, 'c.pem'), cert)
  writeFileSync(join(dir, 'k.pem'), key)
  return startNginx({
    prefix: dir,
    ports: [port],
    http: `  server {
    listen 127.0.0.1:${port} ssl;
    server_name server.lab.test;
    ssl_certificate ${dir}/c.pem;
    ssl_certificate_key ${dir}/k.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root ${dir};
  }`,
  })
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
  const pki = makeSharedLabCa(dir, { names })
  return { caCert: pki.caPem, cert: pki.certPem, key: pki.keyPem }
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

// Real TLS peers for the kTLS tests: a lab CA and leaf certificate, `openssl s_server` and nginx on
// random 127.0.0.1 ports, all under a temp directory. Never touches /etc/nginx.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import net from 'node:net'

export interface LabPki {
  dir: string
  caPem: string
  caFile: string
  certFile: string
  keyFile: string
}

/** A lab CA and a 127.0.0.1 / localhost leaf signed by it (RSA, so ECDHE-RSA suites work). */
export function makeLabPki(): LabPki {
  const dir = mkdtempSync(join(tmpdir(), 'sultry-ktls-pki-'))
  const f = (n: string) => join(dir, n)
  const ossl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  ossl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Sultry lab CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'])
  ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', '/CN=127.0.0.1'])
  writeFileSync(f('leaf.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  ossl(['x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('leaf.pem'), '-days', '2', '-extfile', f('leaf.ext')])
  return { dir, caPem: readFileSync(f('ca.pem'), 'utf8'), caFile: f('ca.pem'), certFile: f('leaf.pem'), keyFile: f('leaf.key') }
}

export interface Peer {
  port: number
  stop(): void
}

/** `openssl s_server -www` (or -WWW to serve files from `cwd`) with extra options, e.g. ['-tls1_3', '-ciphersuites', X]. */
export function startSServer(pki: LabPki, extra: string[], cwd?: string): Promise<Peer> {
  const child = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', pki.certFile, '-key', pki.keyFile, ...(extra.some((a) => a === '-WWW') ? [] : ['-www']), ...extra], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let out = ''
    const onOut = (d: Buffer) => {
      out += d.toString()
      const m = /ACCEPT [^\n]*:(\d+)/.exec(out)
      if (m) {
        child.stdout!.off('data', onOut)
        child.stdout!.resume()
        resolve({ port: Number(m[1]), stop: () => stopChild(child) })
      }
    }
    child.stdout!.on('data', onOut)
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    child.once('exit', (code) => reject(new Error(`s_server exited (${code}): ${out}`)))
  })
}

function stopChild(child: ChildProcess): void {
  if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM')
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

export interface NginxServer {
  /** e.g. 'TLSv1.2 TLSv1.3' */
  protocols: string
  /** TLS 1.2 cipher list (ssl_ciphers). */
  ciphers?: string
  /** TLS 1.3 suites (ssl_conf_command Ciphersuites). */
  tls13Suites?: string
}

/**
 * One nginx (own -p prefix and config) with a TLS server block per entry, each on its own random
 * 127.0.0.1 port, serving `root`. /redirect answers 302 -> /big; /chunked/X serves root/X through
 * sub_filter, which drops Content-Length so HTTP/1.1 responses are chunked.
 */
export async function startNginx(pki: LabPki, root: string, servers: NginxServer[]): Promise<{ ports: number[]; stop(): void }> {
  const prefix = mkdtempSync(join(tmpdir(), 'sultry-nginx-'))
  const ports: number[] = []
  for (const _ of servers) ports.push(await freePort())
  const blocks = servers.map((sv, i) => `
  server {
    listen 127.0.0.1:${ports[i]} ssl;
    ssl_certificate ${pki.certFile};
    ssl_certificate_key ${pki.keyFile};
    ssl_protocols ${sv.protocols};
    ${sv.ciphers ? `ssl_ciphers ${sv.ciphers};` : ''}
    ${sv.tls13Suites ? `ssl_conf_command Ciphersuites ${sv.tls13Suites};` : ''}
    root ${root};
    location = /redirect { return 302 /big; }
    location /chunked/ { alias ${root}/; sub_filter_types *; sub_filter_once off; sub_filter '@@never@@' 'x'; }
  }`).join('\n')
  const conf = join(prefix, 'nginx.conf')
  writeFileSync(conf, `
daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  default_type application/octet-stream;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fcgi;
  uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
${blocks}
}
`)
  const child = spawn('nginx', ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const listening = (port: number) =>
    new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy()
        r(true)
      })
      s.once('error', () => r(false))
    })
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${err}`)
    if ((await Promise.all(ports.map(listening))).every(Boolean)) return { ports, stop: () => stopChild(child) }
    await new Promise((r) => setTimeout(r, 50))
  }
  stopChild(child)
  throw new Error(`nginx did not listen on ${ports.join(', ')}: ${err}`)
}

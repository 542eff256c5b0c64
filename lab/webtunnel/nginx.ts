// Debian nginx as the WebTunnel front, the deployment shape of the official README: TLS with the
// lab certificate, a static site on every path, and on the secret path a proxy_pass that forwards
// Upgrade/Connection (the usual $connection_upgrade map) and X-Forwarded-For to the PT server.
// Started with its own prefix and config in a temp dir on a free 127.0.0.1 port.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as net from 'node:net'
import { join } from 'node:path'

export interface NginxFront {
  port: number
  dir: string
  stop(): Promise<void>
  errorLog(): string
}

export interface NginxFrontOptions {
  dir: string
  serverName: string
  certFile: string
  keyFile: string
  secretPath: string
  upstreamPort: number
  /** index.html of the ordinary site. */
  siteHtml: string
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
  })
}

export function nginxConf(o: NginxFrontOptions & { port: number; user: string }): string {
  const d = o.dir
  return `worker_processes 1;
${o.user ? `user ${o.user};` : ''}
error_log ${d}/error.log info;
pid ${d}/nginx.pid;
events { worker_connections 256; }
http {
  access_log ${d}/access.log;
  client_body_temp_path ${d}/tmp/body;
  proxy_temp_path ${d}/tmp/proxy;
  fastcgi_temp_path ${d}/tmp/fastcgi;
  uwsgi_temp_path ${d}/tmp/uwsgi;
  scgi_temp_path ${d}/tmp/scgi;
  server_tokens off;
  types { text/html html; }
  map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
  }
  server {
    listen 127.0.0.1:${o.port} ssl;
    server_name ${o.serverName};
    ssl_certificate ${o.certFile};
    ssl_certificate_key ${o.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    root ${d}/site;
    location / { index index.html; }
    location = ${o.secretPath} {
      proxy_pass http://127.0.0.1:${o.upstreamPort};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
    }
  }
}
`
}

async function waitForPort(port: number, child: ChildProcess, dir: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${readFileSync(join(dir, 'error.log'), 'utf8')}`)
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy()
        r(true)
      })
      s.once('error', () => r(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('nginx did not start listening')
}

export async function startNginxFront(o: NginxFrontOptions): Promise<NginxFront> {
  mkdirSync(join(o.dir, 'tmp'), { recursive: true })
  mkdirSync(join(o.dir, 'site'), { recursive: true })
  writeFileSync(join(o.dir, 'site', 'index.html'), o.siteHtml)
  writeFileSync(join(o.dir, 'error.log'), '')
  const port = await freePort()
  // As root, workers would drop to nobody and could not read the temp dir's key.
  const user = process.getuid?.() === 0 ? 'root' : ''
  writeFileSync(join(o.dir, 'nginx.conf'), nginxConf({ ...o, port, user }))
  const child = spawn('/usr/sbin/nginx', ['-p', o.dir, '-c', join(o.dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()))
  try {
    await waitForPort(port, child, o.dir)
  } catch (e) {
    child.kill('SIGKILL')
    throw new Error(`${(e as Error).message}\n${stderr}`)
  }
  return {
    port,
    dir: o.dir,
    errorLog: () => readFileSync(join(o.dir, 'error.log'), 'utf8'),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGQUIT')
        setTimeout(() => child.kill('SIGKILL'), 3000).unref()
      }),
  }
}

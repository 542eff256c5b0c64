// Test-only: Debian nginx with its own -p prefix and config in a temp dir (never /etc/nginx), up
// once every listen port accepts, stopped by kill().

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { waitForPort } from './port.js'
import { startProcess, type Peer } from './process.js'

export interface NginxConfOptions {
  prefix: string
  /** The http{} body: server blocks, maps, types. */
  http: string
  /** access_log path; off by default. */
  accessLog?: string
}

/**
 * The main and http context around `http`, every path under `prefix`. As root the workers run as
 * root too: as nobody they could not read the 0700 temp dir.
 */
export function nginxConf(o: NginxConfOptions): string {
  const d = o.prefix
  return `${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${d}/nginx.pid;
error_log ${d}/error.log info;
events { worker_connections 256; }
http {
  access_log ${o.accessLog ?? 'off'};
  client_body_temp_path ${d}/tmp/body; proxy_temp_path ${d}/tmp/proxy; fastcgi_temp_path ${d}/tmp/fastcgi;
  uwsgi_temp_path ${d}/tmp/uwsgi; scgi_temp_path ${d}/tmp/scgi;
${o.http}
}
`
}

/** Writes `prefix`/nginx.conf (and the temp dirs) and returns nginx's argv for it. */
export function nginxArgs(o: NginxConfOptions): string[] {
  mkdirSync(join(o.prefix, 'tmp'), { recursive: true })
  writeFileSync(join(o.prefix, 'error.log'), '', { flag: 'a' })
  writeFileSync(join(o.prefix, 'nginx.conf'), nginxConf(o))
  return ['-p', o.prefix, '-c', join(o.prefix, 'nginx.conf'), '-e', join(o.prefix, 'error.log'), '-g', 'daemon off;']
}

export interface Nginx extends Peer {
  ports: number[]
  errorLog(): string
}

/** Starts nginx on 127.0.0.1 `ports` (the conf's listen ports; `port` is the first). */
export async function startNginx(o: NginxConfOptions & { ports: number[] }): Promise<Nginx> {
  const peer = await startProcess('nginx', nginxArgs(o), { port: o.ports[0] })
  const errorLog = () => readFileSync(join(o.prefix, 'error.log'), 'utf8')
  try {
    await waitForPort(o.ports, { timeoutMs: 10000, gone: () => (peer.proc.exitCode !== null ? `nginx exited ${peer.proc.exitCode}: ${peer.output()}${errorLog()}` : undefined) })
  } catch (e) {
    await peer.kill()
    throw new Error(`nginx did not listen on ${o.ports.join(', ')}: ${(e as Error).message}\n${peer.output()}`)
  }
  return Object.assign(peer, { ports: o.ports, errorLog })
}

// Debian nginx as the WebTunnel front, the deployment shape of the official README: TLS with the
// lab certificate, a static site on every path, and on the secret path a proxy_pass that forwards
// Upgrade/Connection (the usual $connection_upgrade map) and X-Forwarded-For to the PT server.
// Started through lab/peers/nginx.ts with its own prefix and config on a free 127.0.0.1 port.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startNginx } from '../peers/nginx.js'
import { freePort } from '../peers/port.js'

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

/** The http{} body: the ordinary site and the WebSocket-forwarding secret path. */
export function frontHttp(o: NginxFrontOptions & { port: number }): string {
  return `  server_tokens off;
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
    root ${o.dir}/site;
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
  }`
}

export async function startNginxFront(o: NginxFrontOptions): Promise<NginxFront> {
  mkdirSync(join(o.dir, 'site'), { recursive: true })
  writeFileSync(join(o.dir, 'site', 'index.html'), o.siteHtml)
  const port = await freePort()
  const nginx = await startNginx({ prefix: o.dir, ports: [port], accessLog: `${o.dir}/access.log`, http: frontHttp({ ...o, port }) })
  return { port, dir: o.dir, errorLog: nginx.errorLog, stop: () => nginx.kill() }
}

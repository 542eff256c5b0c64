// Real TLS peers for the kTLS tests: a lab CA and leaf certificate, `openssl s_server` and nginx on
// random 127.0.0.1 ports, all under a temp directory, made with the shared lab/peers/ starters.

import { makeLabCa } from '../../../lab/peers/pki.js'
import { startNginx as startLabNginx } from '../../../lab/peers/nginx.js'
import { freePort } from '../../../lab/peers/port.js'
import { tempDir } from '../../../lab/peers/process.js'
import { startSServer as startLabSServer } from '../../../lab/peers/s-server.js'

export interface LabPki {
  dir: string
  caPem: string
  caFile: string
  certFile: string
  keyFile: string
}

/** A lab CA and a 127.0.0.1 / localhost leaf signed by it (RSA, so ECDHE-RSA suites work). */
export function makeLabPki(): LabPki {
  return makeLabCa(tempDir('sultry-ktls-pki-'), { keyType: 'rsa', cn: '127.0.0.1', ips: ['127.0.0.1'], names: ['localhost'] })
}

export interface Peer {
  port: number
  stop(): void
}

/** `openssl s_server -www` (or -WWW to serve files from `cwd`) with extra options, e.g. ['-tls1_3', '-ciphersuites', X]. */
export async function startSServer(pki: LabPki, extra: string[], cwd?: string): Promise<Peer> {
  const peer = await startLabSServer({ certFile: pki.certFile, keyFile: pki.keyFile, args: extra, cwd })
  return { port: peer.port, stop: () => void peer.kill() }
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
 * One nginx with a TLS server block per entry, each on its own random 127.0.0.1 port, serving
 * `root`. /redirect answers 302 -> /big; /chunked/X serves root/X through sub_filter, which drops
 * Content-Length so HTTP/1.1 responses are chunked.
 */
export async function startNginx(pki: LabPki, root: string, servers: NginxServer[]): Promise<{ ports: number[]; stop(): void }> {
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
  const nginx = await startLabNginx({ prefix: tempDir('sultry-nginx-'), ports, http: `  default_type application/octet-stream;\n${blocks}` })
  return { ports, stop: () => void nginx.kill() }
}

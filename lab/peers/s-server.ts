// Test-only: `openssl s_server` on a kernel-chosen 127.0.0.1 port (read back from its ACCEPT line,
// so there is no free-port race).

import { startProcess, type Peer } from './process.js'

/** -www unless `args` asks for -WWW (serve files from `cwd`); extra options such as ['-tls1_3']. */
export async function startSServer(o: { certFile: string; keyFile: string; args?: string[]; cwd?: string }): Promise<Peer> {
  const args = o.args ?? []
  const www = args.includes('-WWW') || args.includes('-www') ? [] : ['-www']
  const peer = await startProcess('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', o.certFile, '-key', o.keyFile, ...www, ...args], { cwd: o.cwd, ready: /ACCEPT [^\n]*:\d+/, port: 0 })
  peer.port = Number(/ACCEPT [^\n]*:(\d+)/.exec(peer.output())![1])
  return peer
}

// From bridge-line arguments to where and how a WebTunnel client connects, read the way lyrebird
// reads them (transports/webtunnel/client.go, as facts): url= gives scheme, dial host:port, SNI,
// Host field and path; addr= overrides the dial endpoint; servername= overrides the SNI; cert= is
// a base64 SHA-256 pin of the server's certificate chain that replaces CA verification.

import { WireError } from '../wire/bytes.js'
import { bridgeArg } from './bridge-line.js'
import type { PtArgs } from './pt/args.js'

export interface WebTunnelClientConfig {
  tls: boolean
  /** Where the TCP connection goes (never the bridge line's placeholder address). */
  dialHost: string
  dialPort: number
  /** Host field: the url's host name without the port (as lyrebird sets it). */
  httpHost: string
  /** Request path, percent-encoded as in the url. */
  path: string
  /** SNI; absent when the name is an IP literal (RFC 6066 §3 forbids those in SNI). */
  serverName: string
  /** Name the certificate must match when verifying against a CA. */
  verifyName: string
  /** lyrebird cert=: base64 of the chained SHA-256 over the server's certificate chain. */
  certChainPin?: Uint8Array | undefined
}

const bad = (detail: string) => new WireError('bad-value', `WebTunnel arguments: ${detail}`)

export function clientConfigFromArgs(args: PtArgs): WebTunnelClientConfig {
  const urlText = bridgeArg(args, 'url')
  if (urlText === undefined) throw bad('no url=')
  let url: URL
  try {
    url = new URL(urlText)
  } catch {
    throw bad(`url ${JSON.stringify(urlText)} does not parse`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad(`url scheme ${url.protocol}`)
  const tls = url.protocol === 'https:'
  // WHATWG URL keeps IPv6 brackets in hostname; Go's Hostname() does not.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (hostname === '') throw bad('url has no host')
  let dialHost = hostname
  let dialPort = url.port === '' ? (tls ? 443 : 80) : Number(url.port)
  const addr = bridgeArg(args, 'addr')
  if (addr !== undefined) {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):([0-9]{1,5})$/.exec(addr)
    if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) throw bad(`addr ${JSON.stringify(addr)} is not host:port`)
    dialHost = m[1] ?? m[2]
    dialPort = Number(m[3])
  }
  const serverName = (bridgeArg(args, 'servername') ?? hostname).trim()
  const pinText = bridgeArg(args, 'cert')
  let certChainPin: Uint8Array | undefined
  if (pinText !== undefined) {
    if (!/^[A-Za-z0-9+/]{43}=$/.test(pinText)) throw bad('cert= is not base64 of 32 bytes')
    certChainPin = new Uint8Array(Buffer.from(pinText, 'base64'))
  }
  return { tls, dialHost, dialPort, httpHost: hostname, path: url.pathname === '' ? '/' : url.pathname, serverName, verifyName: serverName, certChainPin }
}

// WebTunnel under a Tor client, the way a PT sits under tor: the Tor client "connects" to the
// bridge line's address, and this World hands it a WebTunnel to the url instead. The placeholder
// address is never dialled; every other connect goes to the World underneath unchanged.
//
//   const line = parseBridgeLine('webtunnel [2001:db8::…]:443 FP url=https://host/path')
//   const tor = await TorClient.create(webTunnelWorld(world, line, { ca }), { bridges: [...] })

import type { Conn, World } from '../net/world.js'
import { NetError } from '../net/world.js'
import { ipv6FromText, ipv6ToText, isIpv6Text } from '../wire/socks/address.js'
import { parseBridgeLine, type BridgeLine } from './bridge-line.js'
import { clientConfigFromArgs } from './client-config.js'
import { dialWebTunnel, type WebTunnelDialOptions } from './client.js'
import { isPlaceholderAddress } from './placeholder-address.js'

const norm = (host: string) => (isIpv6Text(host) ? ipv6ToText(ipv6FromText(host)) : host)

export function webTunnelWorld(world: World, line: BridgeLine, options: WebTunnelDialOptions = {}): World {
  if (line.transport !== 'webtunnel') throw new Error(`webTunnelWorld: a ${line.transport} bridge line`)
  const config = clientConfigFromArgs(line.args)
  const bridgeHost = norm(line.address)
  return {
    ...world,
    now: () => world.now(),
    setTimer: (ms, fn) => world.setTimer(ms, fn),
    random: (n) => world.random(n),
    trace: (e, d) => world.trace(e, d),
    ...(world.keylog ? { keylog: (l: string) => world.keylog!(l) } : {}),
    net: {
      listen: (port, onConn, host) => world.net.listen(port, onConn, host),
      async connect(host, port) {
        if (norm(host) === bridgeHost && port === line.port) {
          world.trace('webtunnel-bridge-dial', { placeholder: `${host}:${port}`, dial: `${config.dialHost}:${config.dialPort}` })
          return (await dialWebTunnel(world, config, options)) as Conn
        }
        // A placeholder that is not this bridge's: dialling it would leave for an unroutable prefix.
        if (isIpv6Text(host) && isPlaceholderAddress(ipv6FromText(host))) throw new NetError('EHOSTUNREACH', `${host} is a WebTunnel placeholder address`)
        return world.net.connect(host, port)
      },
    },
  }
}

/**
 * Sets up the transports of a list of bridge lines for a Tor client: plain "ADDR:PORT FP" lines pass
 * through; each "webtunnel …" line wraps the World (webTunnelWorld) and becomes the plain line of
 * its placeholder address, which only that World can reach. Other transports are refused clearly.
 */
export function bridgesWithTransports(
  world: World,
  lines: readonly string[],
  options: WebTunnelDialOptions = {},
): { world: World; bridges: string[] } {
  const bridges: string[] = []
  for (const text of lines) {
    const first = text.trim().replace(/^Bridge\s+/i, '').split(/\s+/)[0] ?? ''
    if (/^(\d|\[)/.test(first)) {
      bridges.push(text)
      continue
    }
    const line = parseBridgeLine(text)
    if (line.transport !== 'webtunnel') throw new Error(`bridge transport "${line.transport}" is not supported (only webtunnel)`)
    if (!line.fingerprint) throw new Error('a webtunnel bridge line needs the bridge fingerprint: tor authenticates the bridge by it')
    world = webTunnelWorld(world, line, options)
    const host = isIpv6Text(line.address) ? `[${line.address}]` : line.address
    bridges.push(`${host}:${line.port} ${line.fingerprint}`)
  }
  return { world, bridges }
}

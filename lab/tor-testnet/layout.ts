// The private Tor network's shape: which nodes exist, what each is, and which loopback port each
// listens on. Facts taken from the lab's verified recipe (../shared/tools/tor-testnet.md): 3 v3
// authorities, 2 relays, 2 exits, 1 unpublished bridge, 2 reference C tor clients (one through the
// bridge). Ports are laid out in a block of 100 from a base: ORPort B+i, DirPort B+20+i,
// ControlPort B+40+i, SocksPort B+60+i; B+80..B+99 are never used by the network (test servers).

export type NodeRole = 'auth' | 'relay' | 'exit' | 'bridge' | 'client' | 'bridgeclient'

export const NODES: ReadonlyArray<{ nick: string; role: NodeRole }> = [
  { nick: 'a0', role: 'auth' },
  { nick: 'a1', role: 'auth' },
  { nick: 'a2', role: 'auth' },
  { nick: 'r0', role: 'relay' },
  { nick: 'r1', role: 'relay' },
  { nick: 'e0', role: 'exit' },
  { nick: 'e1', role: 'exit' },
  { nick: 'br0', role: 'bridge' },
  { nick: 'c0', role: 'client' },
  { nick: 'bc0', role: 'bridgeclient' },
]

export const IP = '127.0.0.1'

export const isServer = (role: NodeRole) => role !== 'client' && role !== 'bridgeclient'
/** Relays the authorities list in the consensus (the bridge is not published). */
export const isListed = (role: NodeRole) => role === 'auth' || role === 'relay' || role === 'exit'

export interface Ports {
  orPort?: number
  dirPort?: number
  controlPort: number
  socksPort?: number
}

export function portsOf(base: number, nick: string): Ports {
  const i = NODES.findIndex((n) => n.nick === nick)
  if (i < 0) throw new Error(`no node ${nick}`)
  const role = NODES[i].role
  const p: Ports = { controlPort: base + 40 + i }
  if (isServer(role)) p.orPort = base + i
  if (role === 'auth') p.dirPort = base + 20 + i
  if (!isServer(role)) p.socksPort = base + 60 + i
  return p
}

/** First port that tests may use for their own servers; the network never listens from here on. */
export const testServerPort = (base: number, k = 0) => base + 80 + k

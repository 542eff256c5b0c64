// Subprotocol versions this client speaks (tor-spec "Subprotocol versioning";
// subprotocol-versioning.html), checked against a consensus's required-client-protocols: a client
// that lacks a required version must not use the network (tor 0.4.9 requires
// Cons=2 Desc=2 FlowCtrl=1 Link=4 Microdesc=2 Relay=2, ../shared/notes/tor.md §1.1).

export const SUPPORTED_PROTOCOLS: ReadonlyMap<string, ReadonlySet<number>> = new Map([
  ['Cons', new Set([2])], // microdesc consensus
  ['Desc', new Set([2])], // ntor onion keys in descriptors
  ['DirCache', new Set([2])], // BEGIN_DIR
  ['FlowCtrl', new Set([1])], // authenticated SENDME
  ['Link', new Set([4, 5])],
  ['Microdesc', new Set([2])],
  ['Relay', new Set([2])], // ntor + EXTEND2
])

/** "Name=v" entries the consensus requires and we do not speak. */
export function missingRequiredProtocols(required: Map<string, Set<number>>): string[] {
  const missing: string[] = []
  for (const [name, versions] of required) {
    const ours = SUPPORTED_PROTOCOLS.get(name)
    for (const v of versions) if (!ours?.has(v)) missing.push(`${name}=${v}`)
  }
  return missing
}

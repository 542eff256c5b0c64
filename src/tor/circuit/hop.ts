// What a client must know about a relay to put it on a circuit (from a microdescriptor and its
// consensus entry, or from a bridge line plus the bridge's descriptor).

export interface RelayTarget {
  /** IPv4 address and ORPort. */
  host: string
  port: number
  /** RSA identity fingerprint (20 bytes). */
  rsaId: Uint8Array
  /** Ed25519 identity (32 bytes), when the relay has one (all 0.4.x relays do). */
  ed25519Id?: Uint8Array
  /** Curve25519 ntor onion key (32 bytes). */
  ntorOnionKey: Uint8Array
  /** For logs only. */
  nickname?: string
}

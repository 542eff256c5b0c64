// Typed failures of the Tor client, one class per layer, each with a code a caller can switch on.

export type ChannelErrorCode = 'connect' | 'tls' | 'versions' | 'certs' | 'identity' | 'protocol' | 'timeout' | 'closed'

/** The link to a relay failed or was refused; every circuit on it is gone. */
export class ChannelError extends Error {
  override readonly name = 'ChannelError'
  constructor(
    readonly code: ChannelErrorCode,
    detail: string,
  ) {
    super(`channel ${code}: ${detail}`)
  }
}

export type CircuitErrorCode = 'destroyed' | 'truncated' | 'protocol' | 'timeout' | 'channel' | 'handshake' | 'closed'

/** A circuit was torn down: by the peer (DESTROY/TRUNCATED with `reason`), by us, or with its channel. */
export class CircuitError extends Error {
  override readonly name = 'CircuitError'
  constructor(
    readonly code: CircuitErrorCode,
    detail: string,
    /** DESTROY / TRUNCATED reason (tor-spec §5.4) when the peer gave one. */
    readonly reason?: number,
  ) {
    super(`circuit ${code}: ${detail}`)
  }
  /** For a failed build: index in the path of the hop we were trying to reach. */
  failedHop?: number
}

export type StreamErrorCode = 'end' | 'circuit' | 'protocol' | 'timeout' | 'resolve'

/** A stream failed; `reason` is the RELAY_END reason (tor-spec §6.3) when the exit sent one. */
export class StreamError extends Error {
  override readonly name = 'StreamError'
  constructor(
    readonly code: StreamErrorCode,
    detail: string,
    readonly reason?: number,
  ) {
    super(`stream ${code}: ${detail}`)
  }
}

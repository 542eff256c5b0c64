// A simulated host: a name, an IPv4 address, listeners on virtual ports, and the World its actors
// are handed (virtual time and timers from the scheduler, randomness from the host's own named
// stream, connect/listen on the simulated network, trace into the network's trace).

import type { Conn, Listener, World } from '../world.js'
import { NetError } from '../world.js'
import type { RngStream } from './rng.js'
import type { SimNetwork } from './network.js'

export class SimHost {
  readonly listeners = new Map<number, (conn: Conn) => void>()
  private nextEphemeral = 49152
  readonly world: World

  constructor(
    readonly network: SimNetwork,
    readonly name: string,
    readonly address: string,
    readonly rng: RngStream,
  ) {
    const net = network
    this.world = {
      now: () => net.sched.now(),
      setTimer: (ms, fn) => {
        const due = net.sched.now() + Math.max(0, ms)
        net.trace.line(`${net.sched.now()} ${name} timer-set ${due}`)
        const t = net.sched.at(due, `timer on ${name}`, () => {
          net.trace.line(`${due} ${name} timer`)
          fn()
        })
        return { cancel: () => t.cancel() }
      },
      random: (n) => this.rng.bytes(n),
      net: {
        connect: (host, port) => net.connect(this, host, port),
        listen: (port, onConn, _host) => this.listen(port, onConn),
      },
      trace: (event, detail) => net.trace.event(name, event, detail),
      keylog: (line) => net.keylog.add(line),
    }
  }

  listen(port: number, onConn: (conn: Conn) => void): Promise<Listener> {
    if (port === 0) port = this.ephemeralPort()
    if (this.listeners.has(port)) return Promise.reject(new NetError('EADDRINUSE', `${this.name}:${port} already listening`))
    this.listeners.set(port, onConn)
    this.network.trace.line(`${this.network.sched.now()} ${this.name} listen ${port}`)
    const listener: Listener = {
      host: this.address,
      port,
      close: async () => {
        if (this.listeners.get(port) === onConn) this.listeners.delete(port)
        this.network.trace.line(`${this.network.sched.now()} ${this.name} unlisten ${port}`)
      },
    }
    return Promise.resolve(listener)
  }

  ephemeralPort(): number {
    while (this.listeners.has(this.nextEphemeral)) this.nextEphemeral++
    return this.nextEphemeral++
  }
}

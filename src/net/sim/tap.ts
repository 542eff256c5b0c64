// Taps the simulated network into a classic pcap: each virtual TCP connection becomes a synthesized
// IPv4/TCP flow (handshake, data with consistent seq/ack, ACKs, FIN, RST, valid checksums, via
// TcpFlowSynth) stamped with virtual time, and the run's TLS secrets go to `${path}.keylog`, so
// Wireshark/tshark open and decrypt any simulated run. Packets are what the receiver was handed, so
// the capture shows the split and coalesced chunks exactly as the application saw them.

import { closeSync, openSync, writeSync } from 'node:fs'
import { PcapWriter } from '../../wire/pcap/writer.js'
import { TcpFlowSynth, type Direction } from '../../wire/pcap/tcp-synth.js'
import type { PcapRecord } from '../../wire/pcap/writer.js'
import type { SimNetwork } from './network.js'
import type { FlowInfo, WireObserver } from './pipe.js'

export interface TapOptions {
  /** Only connections between these two hosts (by name); default: the whole network. */
  between?: [string, string]
  /** Keylog path; default `${path}.keylog`. */
  keylog?: string
}

export interface Tap {
  readonly path: string
  readonly keylogPath: string
  packets: number
  close(): Promise<void>
}

/** Virtual ms -> pcap microseconds (virtual time 0 is the epoch). */
const micros = (ms: number): number => Math.round(ms * 1000)

export async function tapNetwork(net: SimNetwork, path: string, opts: TapOptions = {}): Promise<Tap> {
  const writer = new PcapWriter()
  const fd = openSync(path, 'w')
  writeSync(fd, writer.header())
  const flows = new Map<number, TcpFlowSynth>()
  const keylogPath = opts.keylog ?? `${path}.keylog`
  net.keylog.writeTo(keylogPath)
  let closed = false

  const tap: Tap = {
    path,
    keylogPath,
    packets: 0,
    close: async () => {
      if (closed) return
      closed = true
      const i = net.observers.indexOf(observer)
      if (i >= 0) net.observers.splice(i, 1)
      closeSync(fd)
    },
  }
  // The synthesizer stamps a data segment's ACK 1 µs after it; the next segment may be due at the
  // same virtual instant, so clamp to keep the file's timestamps non-decreasing as tools expect.
  let lastMicros = 0
  const emit = (records: PcapRecord[]) => {
    if (closed) return
    tap.packets += records.length
    for (const r of records) lastMicros = r.tsMicros = Math.max(r.tsMicros, lastMicros)
    writeSync(fd, writer.records(records))
  }
  const wanted = (f: FlowInfo) =>
    !opts.between ||
    (opts.between.includes(f.clientHost) && opts.between.includes(f.serverHost) && (f.clientHost !== f.serverHost || opts.between[0] === opts.between[1]))
  const dir = (fromClient: boolean): Direction => (fromClient ? 'c2s' : 's2c')

  const observer: WireObserver = {
    open(f, time) {
      if (!wanted(f)) return
      const isn = net.rng.stream(`tap:isn:${f.id}`)
      const synth = new TcpFlowSynth({
        client: { addr: f.clientAddress, port: f.clientPort },
        server: { addr: f.serverAddress, port: f.serverPort },
        clientIsn: isn.next32(),
        serverIsn: isn.next32(),
      })
      flows.set(f.id, synth)
      emit(synth.open(micros(time)))
    },
    data(f, fromClient, bytes, time) {
      const s = flows.get(f.id)
      if (s) emit(s.data(dir(fromClient), bytes, micros(time)))
    },
    fin(f, fromClient, time) {
      const s = flows.get(f.id)
      if (s) emit(s.fin(dir(fromClient), micros(time)))
    },
    rst(f, fromClient, time) {
      const s = flows.get(f.id)
      if (s) emit(s.rst(dir(fromClient), micros(time)))
    },
  }
  net.observers.push(observer)
  return tap
}

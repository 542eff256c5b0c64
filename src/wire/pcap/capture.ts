// One entry point for capture files: classic pcap (µs or ns, either byte order) or pcapng,
// recognised by their first four bytes.

import { WireError } from '../bytes.js'
import { classicMagic, readClassicPcap } from './classic.js'
import type { CapturedPacket } from './packet.js'
import { isPcapng, readPcapng } from './pcapng.js'

export interface Capture {
  format: 'pcap' | 'pcapng'
  packets: CapturedPacket[]
  /** Set when the file was cut short or malformed part-way: `packets` are those before it. */
  error?: WireError
}

export function readCapture(bytes: Uint8Array): Capture {
  if (bytes.length < 4) throw WireError.truncated(4 - bytes.length, 'capture file magic')
  if (isPcapng(bytes)) {
    const r = readPcapng(bytes)
    return r.error ? { format: 'pcapng', packets: r.packets, error: r.error } : { format: 'pcapng', packets: r.packets }
  }
  if (classicMagic(bytes)) {
    const r = readClassicPcap(bytes)
    return r.error ? { format: 'pcap', packets: r.packets, error: r.error } : { format: 'pcap', packets: r.packets }
  }
  throw new WireError('unsupported', 'not a pcap or pcapng file (unknown magic)')
}

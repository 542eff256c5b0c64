// Test helper: run Wireshark's tshark on a capture file (the oracle of lab.md §6–§7).
// Lives beside the pcap suites because only they use it.

import { execFileSync } from 'node:child_process'
import { fromHex } from '../src/wire/bytes.js'

export function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 })
}

export interface FollowedStream {
  node0: string // "addr:port" of the side tshark lists first (the first sender)
  node1: string
  fromNode0: Uint8Array
  fromNode1: Uint8Array
}

/**
 * `tshark -q -z follow,tcp,raw,N`: one hex line per segment; lines from node 1 are tab-indented
 * (lab.md §6, "Follow TCP").
 */
export function followTcp(file: string, stream: number): FollowedStream {
  const out = tshark(['-r', file, '-q', '-z', `follow,tcp,raw,${stream}`])
  const lines = out.split('\n')
  const node = (i: number): string => (lines.find((l) => l.startsWith(`Node ${i}: `)) ?? '').slice(`Node ${i}: `.length).trim()
  const start = lines.findIndex((l) => l.startsWith('Node 1: ')) + 1
  let h0 = ''
  let h1 = ''
  for (const l of lines.slice(start)) {
    if (l.startsWith('====')) break
    if (l.startsWith('\t')) h1 += l.trim()
    else h0 += l.trim()
  }
  return { node0: node(0), node1: node(1), fromNode0: fromHex(h0), fromNode1: fromHex(h1) }
}

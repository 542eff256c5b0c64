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
 * (lab.md §6, "Follow TCP"). Several streams can be followed in one tshark run.
 */
export function followTcp(file: string, stream: number): FollowedStream {
  return followTcpMany(file, [stream])[0]
}

export function followTcpMany(file: string, streams: number[]): FollowedStream[] {
  const out = tshark(['-r', file, '-q', ...streams.flatMap((n) => ['-z', `follow,tcp,raw,${n}`])])
  const blocks = new Map<number, FollowedStream>()
  for (const block of out.split(/^=+$/m)) {
    const id = /Filter: tcp\.stream eq (\d+)/.exec(block)
    if (!id) continue
    const lines = block.split('\n')
    const node = (i: number): string => (lines.find((l) => l.startsWith(`Node ${i}: `)) ?? '').slice(`Node ${i}: `.length).trim()
    let h0 = ''
    let h1 = ''
    for (const l of lines.slice(lines.findIndex((l) => l.startsWith('Node 1: ')) + 1)) {
      if (l.startsWith('\t')) h1 += l.trim()
      else h0 += l.trim()
    }
    blocks.set(Number(id[1]), { node0: node(0), node1: node(1), fromNode0: fromHex(h0), fromNode1: fromHex(h1) })
  }
  return streams.map((n) => {
    const b = blocks.get(n)
    if (!b) throw new Error(`tshark printed no follow block for tcp.stream ${n}`)
    return b
  })
}

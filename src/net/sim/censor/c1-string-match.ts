// C1: per-packet substring match on the host names, like `iptables -m string` (xt_string runs
// skb_find_text over one packet: no reassembly) and Geneva's lab censors. Every segment of every
// flow, both directions, is searched on its own; a name cut across two segments is never seen.

import type { FlowInfo } from '../pipe.js'
import { Censor } from './censor.js'
import { block, type FlowInspector } from './inspector.js'
import type { CensorOptions } from './policy.js'

export interface C1Options extends CensorOptions {
  /** Case-insensitive matching (iptables --icase). Default false, as iptables. */
  icase?: boolean
}

export class StringMatchCensor extends Censor {
  private readonly patterns: { text: string; bytes: Buffer }[]
  private readonly icase: boolean

  constructor(options: C1Options) {
    super('C1', options)
    this.icase = options.icase ?? false
    const list = options.blocklist
    this.patterns = [...(list.names ?? []), ...(list.suffixes ?? [])].map((text) => ({
      text,
      bytes: Buffer.from(this.icase ? text.toLowerCase() : text, 'latin1'),
    }))
  }

  protected inspector(_flow: FlowInfo): FlowInspector {
    return {
      buffered: 0,
      push: (seg) => {
        if (seg.bytes.length === 0) return undefined
        let hay = Buffer.from(seg.bytes.buffer, seg.bytes.byteOffset, seg.bytes.byteLength)
        if (this.icase) hay = Buffer.from(hay.toString('latin1').toLowerCase(), 'latin1')
        for (const p of this.patterns) if (hay.indexOf(p.bytes) >= 0) return block(`segment contains "${p.text}"`)
        return undefined
      },
    }
  }
}

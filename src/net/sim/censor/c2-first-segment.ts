// C2: parses a ClientHello from the first client data segment only, and fails open when the hello
// is not all there (ISP DPI of the GreenTunnel/SpoofDPI era, notes §5.3). Any split before the
// SNI ends, TCP or TLS record, gets through.

import type { FlowInfo } from '../pipe.js'
import { Censor } from './censor.js'
import { helloFacts, helloInFirstRecord, sniVerdict } from './hello.js'
import { allow, type FlowInspector } from './inspector.js'
import type { CensorOptions } from './policy.js'

export class FirstSegmentCensor extends Censor {
  constructor(options: CensorOptions) {
    super('C2', options)
  }

  protected inspector(_flow: FlowInfo): FlowInspector {
    return {
      buffered: 0,
      push: (seg) => {
        if (!seg.fromClient || seg.bytes.length === 0) return undefined
        const r = helloInFirstRecord(seg.bytes)
        if (r.kind === 'not-tls') return allow(`first segment is not a ClientHello (${r.why})`)
        if (r.kind === 'truncated') return allow(`ClientHello ${r.where} cut at the segment end`, true)
        return sniVerdict(this.options.blocklist, helloFacts(r.hello)) ?? allow('SNI not listed')
      },
    }
  }
}

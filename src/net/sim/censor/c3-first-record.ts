// C3: in-order TCP reassembly, then a parser of the first TLS record only, failing open (GFW
// 2023–24, Iran 2023, TSPU Oct 2024: notes §5.1). TCP splits are reassembled and caught; a
// ClientHello spread over several TLS records is not.

import type { FlowInfo } from '../pipe.js'
import { Censor } from './censor.js'
import { FirstRecordInspector, type ReassemblyLimits } from './first-record.js'
import type { FlowInspector } from './inspector.js'
import type { CensorOptions } from './policy.js'

export interface C3Options extends CensorOptions {
  reassembly?: ReassemblyLimits
}

export class FirstRecordCensor extends Censor {
  constructor(private readonly c3: C3Options) {
    super('C3', c3)
  }

  protected inspector(_flow: FlowInfo): FlowInspector {
    return new FirstRecordInspector(this.options.blocklist, false, this.c3.reassembly)
  }
}

// C4: C3 that fails closed: a ClientHello not complete in the first segment and the first record,
// or one without an SNI, is blocked whatever its name (Iran 2024, Xray-core#4370; "the GFW drops
// all fragmented tlshello packets now", net4people/bbs#640). TCP and record splits both lose.

import type { FlowInfo } from '../pipe.js'
import { Censor } from './censor.js'
import type { C3Options } from './c3-first-record.js'
import { FirstRecordInspector } from './first-record.js'
import type { FlowInspector } from './inspector.js'

export class FailClosedCensor extends Censor {
  constructor(private readonly c4: C3Options) {
    super('C4', c4)
  }

  protected inspector(_flow: FlowInfo): FlowInspector {
    return new FirstRecordInspector(this.options.blocklist, true, this.c4.reassembly)
  }
}

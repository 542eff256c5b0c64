// C5: full TCP + TLS record + handshake-message reassembly, a real TLS parser (CERNET Dec 2025,
// net4people/bbs#550: "split into 400 TLS records, still got reset"). Splits of any kind lose;
// what it cannot read (a hello without SNI, another protocol, an encrypted channel to an unlisted
// address) passes.

import type { FlowInfo } from '../pipe.js'
import { Censor } from './censor.js'
import { sniVerdict } from './hello.js'
import { FullReassemblyInspector, type FullReassemblyLimits } from './full-reassembly.js'
import { allow, type FlowInspector } from './inspector.js'
import type { CensorOptions } from './policy.js'

export interface C5Options extends CensorOptions {
  limits?: FullReassemblyLimits
}

export class FullReassemblyCensor extends Censor {
  constructor(private readonly c5: C5Options) {
    super('C5', c5)
  }

  protected inspector(_flow: FlowInfo): FlowInspector {
    const list = this.options.blocklist
    return new FullReassemblyInspector(
      {
        hello: (facts) => sniVerdict(list, facts) ?? allow(facts.sni === undefined ? 'no SNI' : 'SNI not listed'),
        notTls: (why) => allow(`not TLS (${why})`),
      },
      this.c5.limits,
    )
  }
}

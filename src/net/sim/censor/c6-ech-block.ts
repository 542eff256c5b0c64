// C6: C5 that also blocks what it cannot read: ClientHellos carrying ECH (encrypted_client_hello
// 0xfe0d, or the old ESNI 0xffce the GFW blocked on all ports in 2020), and flows to its strict
// addresses whose first bytes are not TLS at all (a fully encrypted or unknown protocol). Russia's
// TSPU variant (Nov 2024, net4people/bbs#417) blocks ECH only with a listed outer SNI: ech 'listed'.

import type { FlowInfo } from '../pipe.js'
import { Censor } from './censor.js'
import { sniVerdict } from './hello.js'
import type { C5Options } from './c5-full-reassembly.js'
import { FullReassemblyInspector } from './full-reassembly.js'
import { allow, block, type FlowInspector } from './inspector.js'
import { listedName } from './policy.js'

export interface C6Options extends C5Options {
  /** 'everywhere' (GFW ESNI 2020, default): any ECH hello; 'listed': only when the outer SNI is listed. */
  ech?: 'everywhere' | 'listed'
  /** Destinations where a flow that is not TLS is blocked (the unknown-protocol rule). */
  strictIps?: readonly string[]
}

export class EchBlockingCensor extends Censor {
  constructor(private readonly c6: C6Options) {
    super('C6', c6)
  }

  protected inspector(flow: FlowInfo): FlowInspector {
    const list = this.options.blocklist
    const strict = (this.c6.strictIps ?? []).includes(flow.serverAddress)
    const echEverywhere = (this.c6.ech ?? 'everywhere') === 'everywhere'
    return new FullReassemblyInspector(
      {
        hello: (facts) => {
          const byName = sniVerdict(list, facts)
          if (byName) return byName
          if (facts.ech && (echEverywhere || (facts.sni !== undefined && listedName(list, facts.sni)))) {
            return block(`ClientHello carries ECH (outer SNI ${facts.sni ?? 'none'})`)
          }
          return allow(facts.sni === undefined ? 'no SNI' : 'SNI not listed')
        },
        notTls: (why) => (strict ? block(`unknown protocol to ${flow.serverAddress} (${why})`) : allow(`not TLS (${why})`)),
      },
      this.c6.limits,
    )
  }
}

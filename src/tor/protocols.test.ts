// required-client-protocols against what we speak; the required list is tor 0.4.9's, as the lab
// network's consensus carries it (src/tor/dir/fixtures/consensus-microdesc).

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseConsensus, parseProtocols } from './dir/consensus.js'
import { missingRequiredProtocols } from './protocols.js'

describe('required client protocols', () => {
  it('tor 0.4.9’s required list is met', () => {
    const c = parseConsensus(readFileSync(new URL('./dir/fixtures/consensus-microdesc', import.meta.url), 'latin1'))
    expect([...c.requiredClientProtocols.keys()].sort()).toEqual(['Cons', 'Desc', 'FlowCtrl', 'Link', 'Microdesc', 'Relay'])
    expect(missingRequiredProtocols(c.requiredClientProtocols)).toEqual([])
  })

  it('names what we lack', () => {
    expect(missingRequiredProtocols(parseProtocols(['FlowCtrl=1-2', 'Relay=2-3', 'Padding=2'], 't'))).toEqual(['FlowCtrl=2', 'Relay=3', 'Padding=2'])
  })
})

// Where `sultry tor` keeps its state without --cache: beside a --testnet network, else one
// directory per authority set under the XDG cache directory.

import { join } from 'node:path'
import { homedir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { defaultStateDir } from './tor.js'

const A = 'a0 orport=20000 no-v2 v3ident=AAAA 127.0.0.1:20020 ' + 'A'.repeat(40)
const B = 'a1 orport=20001 no-v2 v3ident=BBBB 127.0.0.1:20021 ' + 'B'.repeat(40)

describe('sultry tor state directory', () => {
  it('lives beside a --testnet network', () => {
    expect(defaultStateDir([A], '/tmp/net')).toBe('/tmp/net/sultry-tor-cache')
  })

  it('is one directory per authority set (order and spacing do not matter), under XDG_CACHE_HOME or ~/.cache', () => {
    const x = defaultStateDir([A, B], undefined, { XDG_CACHE_HOME: '/x' })
    expect(x).toMatch(/^\/x\/sultry\/tor-[0-9a-f]{12}$/)
    expect(defaultStateDir([` ${B}`, A], undefined, { XDG_CACHE_HOME: '/x' })).toBe(x)
    expect(defaultStateDir([A], undefined, { XDG_CACHE_HOME: '/x' })).not.toBe(x)
    expect(defaultStateDir([A], undefined, {})).toMatch(new RegExp(`^${join(homedir(), '.cache', 'sultry')}/tor-`))
  })
})

// `sultry proxy`'s stall-watch flags: parsed from the command line as a user types them, refused
// with the flag's name when out of range, and --no-stall-watch turns the watch off.

import { describe, expect, it } from 'vitest'
import { parseArgs, UsageError } from './args.js'
import { proxySpec, stallFlags } from './proxy.js'

const flags = (...argv: string[]) => parseArgs(proxySpec, argv).flags

describe('sultry proxy --stall-*', () => {
  it('defaults to the detector defaults, takes the user bounds, and turns off', () => {
    expect(stallFlags(flags())).toEqual({ midRecordMs: 4000, unansweredMs: 8000, windowBytes: 262144 })
    expect(stallFlags(flags('--stall-mid-record', '9000', '--stall-unanswered=20000', '--stall-window', '65536'))).toEqual({ midRecordMs: 9000, unansweredMs: 20000, windowBytes: 65536 })
    expect(stallFlags(flags('--no-stall-watch', '--stall-mid-record', '9000'))).toBe(false)
  })

  it('refuses bounds out of range, naming the flag', () => {
    expect(() => stallFlags(flags('--stall-mid-record', '5'))).toThrow(UsageError)
    expect(() => stallFlags(flags('--stall-unanswered', '9999999'))).toThrow(/--stall-unanswered: want 100\.\.600000/)
    expect(() => stallFlags(flags('--stall-window', '10'))).toThrow(/--stall-window/)
    expect(() => flags('--stall-window', 'lots')).toThrow(/expects an integer/)
  })
})

// Directory parsers (src/tor/dir): random text and mutations of real documents from the lab
// network (src/tor/dir/fixtures, see its README) produce a parse or exactly one WireError, never
// another exception; the real documents parse and verify at their own valid-after time.

import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WireError } from '../src/wire/bytes.js'
import { parseAuthorityCerts } from '../src/tor/dir/authority-cert.js'
import { parseConsensus } from '../src/tor/dir/consensus.js'
import { checkConsensusSignatures } from '../src/tor/dir/consensus-signatures.js'
import { parseDirAuthority } from '../src/tor/dir/dir-authority.js'
import { parseMicrodescs } from '../src/tor/dir/microdesc.js'
import { tokenize } from '../src/tor/dir/netdoc.js'

const fx = (n: string) => readFileSync(new URL(`../src/tor/dir/fixtures/${n}`, import.meta.url), 'latin1')
const CONS = fx('consensus-microdesc')
const CERTS = fx('authority-certs')
const MDS = fx('microdescs')
const AUTH_LINES = fx('dir-authorities').trim().split('\n')
const RUNS = process.env.SULTRY_QUICK === '1' ? 300 : 10_000
// Certificates carry RSA signatures; verifying thousands is slow on 2 cores, so they get fewer runs.
const SLOW_RUNS = process.env.SULTRY_QUICK === '1' ? 100 : 1_000

function onlyWireError(fn: () => unknown): void {
  try {
    fn()
  } catch (e) {
    if (!(e instanceof WireError)) throw e
  }
}

/** A real document with a few bytes replaced, inserted or removed at random places. */
const mutated = (doc: string) =>
  fc
    .array(fc.tuple(fc.nat(doc.length), fc.constantFrom('replace', 'insert', 'delete'), fc.string({ minLength: 1, maxLength: 4 })), { minLength: 1, maxLength: 4 })
    .map((edits) => {
      let s = doc
      for (const [at, kind, str] of edits) {
        const i = at % (s.length + 1)
        if (kind === 'replace') s = s.slice(0, i) + str + s.slice(i + str.length)
        else if (kind === 'insert') s = s.slice(0, i) + str + s.slice(i)
        else s = s.slice(0, i) + s.slice(i + str.length)
      }
      return s
    })

describe('directory parsers', () => {
  it('real documents parse and verify at valid-after', () => {
    const c = parseConsensus(CONS)
    const certs = parseAuthorityCerts(CERTS)
    const auths = AUTH_LINES.map(parseDirAuthority)
    expect(c.relays).toHaveLength(7)
    expect(certs.every((k) => k.signaturesValid)).toBe(true)
    expect(checkConsensusSignatures(c, auths, certs, c.validAfter)).toMatchObject({ ok: true })
    const digests = new Set(parseMicrodescs(MDS).map((m) => m.digest))
    expect(c.relays.every((r) => digests.has(r.microdescDigest))).toBe(true)
  })

  it('consensus: random and mutated input give only WireError', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 6000, size: 'max' }), mutated(CONS)), (s) => onlyWireError(() => parseConsensus(s))), { numRuns: RUNS })
  })

  it('microdescriptors: random and mutated input give only WireError', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 6000, size: 'max' }), mutated(MDS)), (s) => onlyWireError(() => parseMicrodescs(s))), { numRuns: RUNS })
  })

  it('tokenizer and DirAuthority lines: random and mutated input give only WireError', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 6000, size: 'max' }), mutated(CONS.slice(0, 2000))), (s) => onlyWireError(() => tokenize(s))), { numRuns: RUNS })
    fc.assert(fc.property(fc.oneof(fc.string(), mutated(AUTH_LINES[0])), (s) => onlyWireError(() => parseDirAuthority(s))), { numRuns: RUNS })
  })

  it('authority certificates: mutated input gives only WireError or a certificate that fails its signatures', () => {
    const one = CERTS.slice(0, CERTS.indexOf('dir-key-certificate-version', 10))
    fc.assert(
      fc.property(mutated(one), (s) => {
        try {
          const [k] = parseAuthorityCerts(s)
          if (s !== one && k.signaturesValid) {
            // Only edits outside the signed text and the signatures (e.g. armour line breaks) may keep it valid.
            expect(s.slice(0, s.indexOf('dir-key-certification'))).toBe(one.slice(0, one.indexOf('dir-key-certification')))
          }
        } catch (e) {
          if (!(e instanceof WireError)) throw e
        }
      }),
      { numRuns: SLOW_RUNS },
    )
  })

  it('DirAuthority round trip: fields survive formatting as a torrc line', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }), (fp, v3, orPort, dirPort) => {
        const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase()
        const a = parseDirAuthority(`DirAuthority x1 orport=${orPort} no-v2 v3ident=${hex(v3)} 10.1.2.3:${dirPort} ${hex(fp).replace(/(.{4})/g, '$1 ')}`)
        expect(a).toEqual({ nickname: 'x1', address: '10.1.2.3', dirPort, orPort, fingerprint: fp, v3ident: v3, flags: ['no-v2'] })
      }),
      { numRuns: RUNS },
    )
  })
})

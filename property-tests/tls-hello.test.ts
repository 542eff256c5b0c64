// Properties of ClientHello/ServerHello: hellos built from typed values (GREASE and unknown
// extensions included) encode, decode to the same values and re-encode byte for byte; the typed
// views give back what went in; random and mutated input gives only WireError.

import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { equalBytes } from '../src/wire/bytes.js'
import { type ClientHello, decodeClientHello, encodeClientHello, viewClientHello } from '../src/wire/tls/client-hello.js'
import * as X from '../src/wire/tls/extension-data.js'
import { type Extension, ExtensionType } from '../src/wire/tls/extensions.js'
import { GREASE_VALUES, isGrease } from '../src/wire/tls/grease.js'
import { decodeServerHello, encodeServerHello, HELLO_RETRY_REQUEST_RANDOM, type ServerHello, viewServerHello } from '../src/wire/tls/server-hello.js'
import { mutated, onlyWireError } from './support.js'

const numRuns = process.env.SULTRY_QUICK ? 300 : 10_000

const u16 = fc.integer({ min: 0, max: 0xffff })
const grease = fc.constantFrom(...GREASE_VALUES)
const u16OrGrease = fc.oneof(u16, grease)
const opaque = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max, size: 'max' })
const hostName = fc.domain()
const protocol = fc.stringMatching(/^[a-z0-9./-]{1,16}$/)
const knownTypes = new Set<number>(Object.values(ExtensionType))
const unknownType = u16.filter((t) => !knownTypes.has(t) && !isGrease(t))

/** The typed values a ClientHello's extensions are built from (each one optional). */
const clientExtensionValues = fc.record(
  {
    serverName: hostName,
    supportedGroups: fc.array(u16OrGrease, { minLength: 1, maxLength: 12 }),
    signatureAlgorithms: fc.array(u16, { minLength: 1, maxLength: 20 }),
    alpn: fc.array(protocol, { minLength: 1, maxLength: 4 }),
    padding: fc.integer({ min: 0, max: 300 }),
    sessionTicket: opaque(0, 200),
    supportedVersions: fc.array(u16OrGrease, { minLength: 1, maxLength: 6 }),
    pskModes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }),
    keyShares: fc.array(fc.record({ group: u16OrGrease, keyExchange: opaque(1, 100) }), { maxLength: 3 }),
    ech: opaque(0, 200),
    greaseExtension: fc.tuple(grease, opaque(0, 8)),
    unknown: fc.array(fc.tuple(unknownType, opaque(0, 40)), { maxLength: 3 }),
    preSharedKey: fc.array(fc.record({ identity: opaque(1, 40), obfuscatedTicketAge: fc.nat({ max: 0xffffffff }), binder: opaque(32, 48) }), { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: [] },
)
type ClientValues = typeof clientExtensionValues extends fc.Arbitrary<infer T> ? T : never

function clientExtensions(v: ClientValues): Extension[] {
  const out: Extension[] = []
  if (v.greaseExtension) out.push({ type: v.greaseExtension[0], data: v.greaseExtension[1] })
  if (v.serverName !== undefined) out.push(X.encodeServerName(v.serverName))
  if (v.supportedGroups) out.push(X.encodeSupportedGroups(v.supportedGroups))
  if (v.signatureAlgorithms) out.push(X.encodeSignatureAlgorithms(v.signatureAlgorithms))
  if (v.alpn) out.push(X.encodeAlpn(v.alpn))
  if (v.sessionTicket) out.push(X.encodeSessionTicket(v.sessionTicket))
  if (v.supportedVersions) out.push(X.encodeSupportedVersionsClient(v.supportedVersions))
  if (v.pskModes) out.push(X.encodePskKeyExchangeModes(v.pskModes))
  if (v.keyShares) out.push(X.encodeKeyShareClientHello(v.keyShares))
  if (v.ech) out.push(X.encodeEncryptedClientHello(v.ech))
  for (const [type, data] of v.unknown ?? []) out.push({ type, data })
  if (v.padding !== undefined) out.push(X.encodePadding(v.padding))
  // pre_shared_key must be last (RFC 8446 §4.2.11).
  if (v.preSharedKey) {
    out.push(X.encodeOfferedPsks({
      identities: v.preSharedKey.map((p) => ({ identity: p.identity, obfuscatedTicketAge: p.obfuscatedTicketAge })),
      binders: v.preSharedKey.map((p) => p.binder),
    }))
  }
  return out
}

const clientHelloArb = fc
  .record({
    legacyVersion: fc.constantFrom(0x0301, 0x0302, 0x0303),
    random: opaque(32, 32),
    legacySessionId: opaque(0, 32),
    cipherSuites: fc.array(u16OrGrease, { minLength: 1, maxLength: 40 }),
    legacyCompressionMethods: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 3 }),
    values: fc.option(clientExtensionValues, { nil: undefined, freq: 8 }),
  })
  .map(({ values, ...h }) => ({ hello: { ...h, extensions: values && clientExtensions(values) } as ClientHello, values }))

const serverHelloArb = fc
  .record({
    legacyVersion: fc.constantFrom(0x0301, 0x0302, 0x0303),
    hrr: fc.boolean(),
    random: opaque(32, 32),
    legacySessionIdEcho: opaque(0, 32),
    cipherSuite: u16OrGrease,
    legacyCompressionMethod: fc.integer({ min: 0, max: 255 }),
    values: fc.option(
      fc.record(
        {
          selectedVersion: u16,
          keyShare: fc.record({ group: u16, keyExchange: opaque(1, 100) }),
          selectedIdentity: u16,
          alpn: protocol,
          unknown: fc.array(fc.tuple(unknownType, opaque(0, 40)), { maxLength: 3 }),
        },
        { requiredKeys: [] },
      ),
      { nil: undefined, freq: 8 },
    ),
  })
  .map(({ hrr, values, ...h }) => {
    const ext: Extension[] = []
    if (values?.selectedVersion !== undefined) ext.push(X.encodeSupportedVersionsServer(values.selectedVersion))
    if (values?.keyShare) ext.push(hrr ? X.encodeKeyShareHelloRetryRequest(values.keyShare.group) : X.encodeKeyShareServerHello(values.keyShare))
    if (values?.selectedIdentity !== undefined) ext.push(X.encodeSelectedIdentity(values.selectedIdentity))
    if (values?.alpn !== undefined) ext.push(X.encodeAlpn([values.alpn]))
    for (const [type, data] of values?.unknown ?? []) ext.push({ type, data })
    const hello: ServerHello = { ...h, random: hrr ? HELLO_RETRY_REQUEST_RANDOM : h.random, extensions: values && ext }
    return { hello, hrr, values }
  })

/** Field-by-field equality (vitest's deep toEqual is too slow for 10,000 runs of byte arrays). */
function sameFields(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  for (const k of keys) {
    const x = a[k]
    const y = b[k]
    if (x instanceof Uint8Array && y instanceof Uint8Array) {
      if (!equalBytes(x, y)) return false
    } else if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return false
      for (let i = 0; i < x.length; i++) {
        const same = typeof x[i] === 'object' ? sameFields(x[i], y[i]) : x[i] === y[i]
        if (!same) return false
      }
    } else if (x !== y) {
      return false
    }
  }
  return true
}

describe('ClientHello properties', () => {
  it('round-trips hellos built from typed values, byte for byte, and views give the values back', () => {
    fc.assert(
      fc.property(clientHelloArb, ({ hello, values }) => {
        const bytes = encodeClientHello(hello)
        const back = decodeClientHello(bytes)
        expect(sameFields(back as never, hello as never)).toBe(true)
        expect(equalBytes(encodeClientHello(back), bytes)).toBe(true)
        const v = viewClientHello(back)
        expect(v.serverName).toBe(values?.serverName)
        expect(v.alpn).toEqual(values?.alpn)
        expect(v.supportedGroups).toEqual(values?.supportedGroups)
        expect(v.signatureAlgorithms).toEqual(values?.signatureAlgorithms)
        expect(v.supportedVersions).toEqual(values?.supportedVersions)
        expect(v.pskKeyExchangeModes).toEqual(values?.pskModes)
        expect(v.keyShareGroups).toEqual(values?.keyShares?.map((k) => k.group))
        expect(v.hasPreSharedKey).toBe(values?.preSharedKey !== undefined)
        expect(v.hasEncryptedClientHello).toBe(values?.ech !== undefined)
        if (values?.preSharedKey) {
          const psk = X.decodeOfferedPsks(back.extensions!.at(-1)!.data)
          expect(psk.identities.map((i) => i.obfuscatedTicketAge)).toEqual(values.preSharedKey.map((p) => p.obfuscatedTicketAge))
        }
        if (values?.padding !== undefined) {
          expect(X.decodePadding(back.extensions!.find((e) => e.type === ExtensionType.padding)!.data)).toBe(values.padding)
        }
      }),
      { numRuns },
    )
  })

  it('throws only WireError from decode and views on random and mutated input', () => {
    const input = fc.oneof(fc.uint8Array({ maxLength: 300, size: 'max' }), mutated(clientHelloArb.map(({ hello }) => encodeClientHello(hello))))
    fc.assert(
      fc.property(input, (b) => {
        onlyWireError(() => viewClientHello(decodeClientHello(b)))
        // Every extension that decodes goes through every typed view, expected to fit or not.
        onlyWireError(() => {
          for (const e of decodeClientHello(b).extensions ?? []) viewAll(e.data)
        })
      }),
      { numRuns },
    )
  })
})

function viewAll(data: Uint8Array): void {
  const decoders: ((d: Uint8Array) => unknown)[] = [
    X.decodeServerNameList, X.decodeNamedGroupList, X.decodeSignatureSchemeList, X.decodeProtocolNameList, X.decodePadding,
    X.decodeOfferedPsks, X.decodeSelectedIdentity, X.decodeSupportedVersionsClient, X.decodeSupportedVersionsServer,
    X.decodePskKeyExchangeModes, X.decodeKeyShareClientHello, X.decodeKeyShareServerHello, X.decodeKeyShareHelloRetryRequest,
  ]
  for (const d of decoders) onlyWireError(() => d(data))
}

describe('ServerHello properties', () => {
  it('round-trips hellos built from typed values, byte for byte, and detects HelloRetryRequest', () => {
    fc.assert(
      fc.property(serverHelloArb, ({ hello, hrr, values }) => {
        const bytes = encodeServerHello(hello)
        const back = decodeServerHello(bytes)
        expect(sameFields(back as never, hello as never)).toBe(true)
        expect(equalBytes(encodeServerHello(back), bytes)).toBe(true)
        const v = viewServerHello(back)
        expect(v.helloRetryRequest).toBe(hrr)
        expect(v.selectedVersion).toBe(values?.selectedVersion)
        expect(v.keyShareGroup).toBe(values?.keyShare?.group)
        expect(v.selectedIdentity).toBe(values?.selectedIdentity)
        expect(v.alpn).toBe(values?.alpn)
      }),
      { numRuns },
    )
  })

  it('throws only WireError on random and mutated input', () => {
    const input = fc.oneof(fc.uint8Array({ maxLength: 200, size: 'max' }), mutated(serverHelloArb.map(({ hello }) => encodeServerHello(hello))))
    fc.assert(fc.property(input, (b) => onlyWireError(() => viewServerHello(decodeServerHello(b)))), { numRuns })
  })

  it('random extension_data through every typed view gives only WireError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80, size: 'max' }), viewAll), { numRuns })
  })
})

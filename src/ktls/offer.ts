// Which suites to offer when kTLS is wanted: only those the kernel accepted in the addon's probe()
// (TLS_TX with each cipher and version on a fresh loopback pair), so the server cannot pick a suite
// the kernel would refuse after the handshake. A pure function of the probe result; the probe
// itself runs once per process.

import { TLS_1_2_VERSION, TLS_1_3_VERSION, type TlsVersion } from './constants.js'
import { fallbackReason } from './fallback-reason.js'
import { errnoName, type KtlsAddon } from './native.js'
import { OFFERABLE } from './suites.js'

/** What the addon's probe() returns: the ULP errno and, keyed "tls13-51" etc., each suite's TLS_TX errno. */
export interface ProbeResult {
  ulp: number
  suites: Record<string, number>
}

export type ProtocolVersion = 'TLSv1.2' | 'TLSv1.3'

export type KernelOffer =
  | {
      /** For tls.connect's `ciphers` (TLS 1.3 names and TLS 1.2 names in one string, as Node splits them). */
      ciphers: string
      /** Set when one version has no kernel-capable suite left, so the handshake cannot land on it. */
      minVersion: ProtocolVersion
      maxVersion: ProtocolVersion
      /** Suites left out, with the kernel's errno, for diagnostics. */
      dropped: string[]
    }
  | { none: string }

export const probeKey = (version: TlsVersion, cipherType: number) => `${version === TLS_1_3_VERSION ? 'tls13' : 'tls12'}-${cipherType}`

/**
 * The offer for the versions in [minVersion, maxVersion]. A suite whose probe entry is missing counts
 * as refused: only a 0 from the kernel puts a suite on the wire.
 */
export function kernelOffer(probe: ProbeResult, minVersion: ProtocolVersion = 'TLSv1.2', maxVersion: ProtocolVersion = 'TLSv1.3'): KernelOffer {
  if (probe.ulp !== 0) return { none: `probe: ${fallbackReason('ulp', probe.ulp)}` }
  const wanted = (v: TlsVersion) => (v === TLS_1_2_VERSION ? minVersion === 'TLSv1.2' : maxVersion === 'TLSv1.3')
  const offered: Array<(typeof OFFERABLE)[number]> = []
  const dropped: string[] = []
  for (const s of OFFERABLE) {
    if (!wanted(s.version)) continue
    const errno = probe.suites[probeKey(s.version, s.cipherType)]
    if (errno === 0) offered.push(s)
    else dropped.push(`${s.name}: ${errno === undefined ? 'not probed' : errnoName(errno)}`)
  }
  if (offered.length === 0) return { none: `the kernel accepts none of the AEAD suites for ${minVersion === maxVersion ? minVersion : `${minVersion}-${maxVersion}`} (${dropped.join(', ')})` }
  const has = (v: TlsVersion) => offered.some((s) => s.version === v)
  return {
    ciphers: offered.map((s) => s.name).join(':'),
    minVersion: has(TLS_1_2_VERSION) ? 'TLSv1.2' : 'TLSv1.3',
    maxVersion: has(TLS_1_3_VERSION) ? 'TLSv1.3' : 'TLSv1.2',
    dropped,
  }
}

let probed: ProbeResult | undefined

/**
 * The addon's probe, run once per process: each call opens seven loopback pairs, and once the tls
 * module is loaded its answer does not change. A probe without the ULP is not kept (modprobe tls
 * may come later).
 */
export function probeOnce(addon: KtlsAddon): ProbeResult {
  if (probed) return probed
  const p = addon.probe()
  if (p.ulp === 0) probed = p
  return p
}

/** The offer range of a tls.connect option set (Node's defaults: TLS 1.2 to 1.3; older minimums are not offered). */
export function offeredRange(o: { minVersion?: string; maxVersion?: string }): [ProtocolVersion, ProtocolVersion] {
  return [o.minVersion === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2', o.maxVersion === undefined || o.maxVersion === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2']
}

// Test-only PKI: a throwaway lab CA and one leaf signed by it, made with the openssl CLI under a
// given dir, so nothing secret is committed and every run has fresh keys.

import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface LabCa {
  dir: string
  caPem: string
  /** `dir`/ca.crt */
  caFile: string
  /** `dir`/leaf.crt */
  certFile: string
  /** `dir`/leaf.key */
  keyFile: string
  certPem: string
  keyPem: string
}

export interface LabCaOptions {
  /** DNS subjectAltNames of the leaf. */
  names?: string[]
  /** IP subjectAltNames of the leaf. */
  ips?: string[]
  /** Leaf subject CN; the first name (else IP) by default. */
  cn?: string
  /** 'p256' (ECDSA, what Chromium accepts) or 'rsa' (RSA-2048, so ECDHE-RSA suites work). */
  keyType?: 'p256' | 'rsa'
  caName?: string
}

export function makeLabCa(dir: string, o: LabCaOptions): LabCa {
  const names = o.names ?? []
  const ips = o.ips ?? []
  const f = (n: string) => join(dir, n)
  const ossl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const newkey = o.keyType === 'rsa' ? ['-newkey', 'rsa:2048', '-nodes'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  ossl(['req', '-x509', ...newkey, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', `/CN=${o.caName ?? 'Sultry lab CA (TEST ONLY)'}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  ossl(['req', ...newkey, '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', `/CN=${o.cn ?? names[0] ?? ips[0]}`])
  const san = [...names.map((n) => `DNS:${n}`), ...ips.map((ip) => `IP:${ip}`)].join(',')
  writeFileSync(f('leaf.ext'), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`)
  ossl(['x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('leaf.ext'), '-out', f('leaf.crt')])
  const caPem = readFileSync(f('ca.crt'), 'utf8')
  return { dir, caPem, caFile: f('ca.crt'), certFile: f('leaf.crt'), keyFile: f('leaf.key'), certPem: readFileSync(f('leaf.crt'), 'utf8'), keyPem: readFileSync(f('leaf.key'), 'utf8') }
}

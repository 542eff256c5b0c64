// Test-only PKI for the WebTunnel lab: a throwaway CA and a server certificate made with the
// openssl CLI in a temp dir, so nothing secret is committed and every run has fresh keys.

import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface LabPki {
  caPem: string
  certFile: string
  keyFile: string
  certPem: string
}

/** ECDSA P-256 CA + leaf for `name` and 127.0.0.1, written under `dir`. */
export function makeLabPki(dir: string, name: string): LabPki {
  const f = (n: string) => join(dir, n)
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ca.key'))
  ossl('req', '-x509', '-new', '-key', f('ca.key'), '-subj', '/CN=Sultry WebTunnel Lab CA (TEST ONLY)', '-days', '2',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f('ca.crt'))
  ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('server.key'))
  ossl('req', '-new', '-key', f('server.key'), '-subj', `/CN=${name}`, '-out', f('server.csr'))
  writeFileSync(f('server.ext'), `subjectAltName=DNS:${name},IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`)
  ossl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', '7', '-days', '2', '-out', f('server.crt'), '-extfile', f('server.ext'))
  return { caPem: readFileSync(f('ca.crt'), 'utf8'), certFile: f('server.crt'), keyFile: f('server.key'), certPem: readFileSync(f('server.crt'), 'utf8') }
}

// lyrebird's cert= pin (webtunnel transport/tls, itself from v2fly's pin.go; algorithm read as a
// fact): h = SHA-256(cert[0]); for each next certificate h = SHA-256(h | SHA-256(cert[i])), over
// the DER certificates in the order the server sent them (leaf first). Base64 in the bridge line.

import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes } from '../wire/bytes.js'

export function certChainHash(chainDer: Uint8Array[]): Uint8Array {
  if (chainDer.length === 0) throw new Error('certChainHash: empty chain')
  let h = sha256(chainDer[0])
  for (const der of chainDer.slice(1)) h = sha256(concatBytes(h, sha256(der)))
  return h
}

/** The cert= value for a PEM file's certificates (what a bridge operator prints). */
export function certChainPinFromPem(pem: string): string {
  const ders = [...pem.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map((m) => new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64')))
  return Buffer.from(certChainHash(ders)).toString('base64')
}

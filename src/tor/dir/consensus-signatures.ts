// Is this consensus signed by more than half of the configured authorities (dir-spec §3.4.1;
// C tor's n_required = n_authorities/2 + 1)? One valid signature counts per authority; a
// signature counts only with a certificate whose fingerprint is that authority's v3ident, whose
// own signatures hold, whose signing key is the one named, and which has not expired.

import { equalBytes, toHex } from '../../wire/bytes.js'
import type { AuthorityCert } from './authority-cert.js'
import type { Consensus } from './consensus.js'
import type { DirAuthority } from './dir-authority.js'
import { rsaVerifyDigest } from './rsa.js'

export interface SignatureTally {
  required: number
  /** v3idents (hex) of authorities with a valid signature. */
  validFrom: string[]
  ok: boolean
}

export function checkConsensusSignatures(c: Consensus, authorities: DirAuthority[], certs: AuthorityCert[], nowMs: number): SignatureTally {
  const required = Math.floor(authorities.length / 2) + 1
  const validFrom = new Set<string>()
  for (const sig of c.signatures) {
    const auth = authorities.find((a) => equalBytes(a.v3ident, sig.identity))
    if (!auth) continue
    const cert = certs.find((k) => k.signaturesValid && equalBytes(k.fingerprint, sig.identity) && equalBytes(k.signingKeyDigest, sig.signingKeyDigest) && nowMs < k.expires)
    if (!cert) continue
    const digest = sig.algorithm === 'sha256' ? c.signedDigest.sha256 : c.signedDigest.sha1
    if (rsaVerifyDigest(cert.signingKey, digest, sig.signature)) validFrom.add(toHex(sig.identity))
  }
  return { required, validFrom: [...validFrom], ok: validFrom.size >= required }
}

// DirAuthority lines the torrc way (man tor, "DirAuthority [nickname] [flags] ipv4address:dirport
// fingerprint"): e.g. `a0 orport=20000 no-v2 v3ident=<40 hex> 127.0.0.1:20020 <40 hex>`. The
// fingerprint may be written in groups of four hex digits separated by spaces.

import { WireError } from '../../wire/bytes.js'
import { hexExact, intArg } from './netdoc.js'

export interface DirAuthority {
  nickname?: string
  address: string
  dirPort: number
  orPort?: number
  /** RSA identity of the authority as a relay (20 bytes). */
  fingerprint: Uint8Array
  /** Its v3 authority identity (20 bytes): what consensus signatures and key certificates name. */
  v3ident: Uint8Array
  flags: string[]
}

export function parseDirAuthority(line: string): DirAuthority {
  const words = line.trim().replace(/^DirAuthority\s+/i, '').split(/\s+/)
  const at = words.findIndex((w) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(w))
  if (at < 0) throw new WireError('bad-value', 'DirAuthority: no address:dirport')
  const [address, portText] = words[at].split(':')
  if (address.split('.').some((o) => Number(o) > 255)) throw new WireError('bad-value', 'DirAuthority: bad IPv4 address')
  const dirPort = intArg(portText, 'DirAuthority dirport', 1, 65535)
  const fingerprint = hexExact(words.slice(at + 1).join(''), 20, 'DirAuthority fingerprint')
  const before = words.slice(0, at)
  let nickname: string | undefined
  if (before.length > 0 && !before[0].includes('=') && /^[A-Za-z0-9]{1,19}$/.test(before[0]) && !['no-v2', 'hs', 'bridge', 'v3'].includes(before[0])) {
    nickname = before.shift()
  }
  let orPort: number | undefined
  let v3ident: Uint8Array | undefined
  const flags: string[] = []
  for (const f of before) {
    if (f.startsWith('orport=')) orPort = intArg(f.slice(7), 'DirAuthority orport', 1, 65535)
    else if (f.startsWith('v3ident=')) v3ident = hexExact(f.slice(8), 20, 'DirAuthority v3ident')
    else flags.push(f)
  }
  if (!v3ident) throw new WireError('bad-value', 'DirAuthority: no v3ident (not a v3 authority)')
  return { nickname, address, dirPort, orPort, fingerprint, v3ident, flags }
}

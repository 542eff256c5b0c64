// Test helpers shared by the Tor client's live tests: one private network per test file, and the
// relay facts a hand-built path needs, read from what the launcher reports.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestnet, type Testnet, type TestnetRelay } from '../../lab/tor-testnet/testnet.js'
import type { RelayTarget } from './circuit/hop.js'

/** Starts a network on a free port block (see net.basePort; B+80..B+99 are free for test servers). */
export async function startSharedTestnet(): Promise<{ net: Testnet; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sultry-tornet-'))
  try {
    const net = await startTestnet(dir, { basePort: 'auto' })
    return {
      net,
      cleanup: async () => {
        await net.stop()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
}

export function relayTarget(r: TestnetRelay): RelayTarget {
  return {
    host: r.address,
    port: r.orPort,
    rsaId: new Uint8Array(Buffer.from(r.fingerprint, 'hex')),
    ed25519Id: new Uint8Array(Buffer.from(r.ed25519, 'base64')),
    ntorOnionKey: new Uint8Array(Buffer.from(r.ntorOnionKey, 'base64')),
    nickname: r.nick,
  }
}

export function relayByNick(net: Testnet, nick: string): TestnetRelay {
  const r = [...net.relays, net.bridge].find((x) => x.nick === nick)
  if (!r) throw new Error(`no relay ${nick}`)
  return r
}

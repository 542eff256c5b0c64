// Test-only: a censored lab in the simulator (a client, blocked.example and allowed.example behind
// one censor, quiet fixed links so each test controls segmentation itself) and small client actors
// that hand node:tls's first flight to the wire in chosen pieces: whole, cut into TCP segments, or
// re-framed into several TLS records. They stay test-local because net/ sits above proxy/ in the
// layers; the proxy's real strategies meet every rung in lab/matrix (matrix.test.ts).

import { Duplex } from 'node:stream'
import { labSite, labTls, type LabSiteName } from '../../../../lab/fixtures/index.js'
import { concatBytes } from '../../../wire/bytes.js'
import { encodeClientHello } from '../../../wire/tls/client-hello.js'
import * as X from '../../../wire/tls/extension-data.js'
import type { Extension } from '../../../wire/tls/extensions.js'
import { encodeHandshake, HandshakeType } from '../../../wire/tls/handshake.js'
import { ContentType, decodeRecord, encodeRecordHeader } from '../../../wire/tls/record.js'
import { acceptTls } from '../../../tls/accept.js'
import { connectTls } from '../../../tls/connect.js'
import type { Conn, World } from '../../world.js'
import type { LinkDirOptions } from '../link.js'
import type { Middlebox } from '../middlebox.js'
import { SimNetwork } from '../network.js'
import type { SimHost } from '../host.js'

export const quiet: LinkDirOptions = { latencyMs: 10, jitterMs: 0, bandwidth: 0, mss: 1460, splitP: 0, coalesceP: 0, windowBytes: 1 << 20 }

export const SITES = {
  'blocked.example': { host: 'blocked', address: '10.0.1.2' },
  'allowed.example': { host: 'allowed', address: '10.0.1.3' },
} as const
export type SiteName = keyof typeof SITES

export interface CensoredLab {
  net: SimNetwork
  client: SimHost
  /** Bytes each site's TCP end received, by site name. */
  received: Map<string, number>
  /** What each site's TLS accept ended with: 'ok' or an error message. */
  serverOutcomes: Map<string, string[]>
}

/** client — censor — {blocked.example, allowed.example}; each site answers "hello from NAME" after its handshake. */
export async function censoredLab(box: Middlebox | undefined, seed = 1): Promise<CensoredLab> {
  const net = new SimNetwork({ seed, policy: 'queue' })
  const client = net.addHost('client', '10.0.0.1')
  const received = new Map<string, number>()
  const serverOutcomes = new Map<string, string[]>()
  for (const [name, s] of Object.entries(SITES)) {
    const host = net.addHost(s.host, s.address)
    net.link('client', s.host, { ab: quiet, ba: quiet })
    if (box) net.addMiddlebox(box, 'client', s.host)
    const site = labSite(name as LabSiteName)
    received.set(name, 0)
    serverOutcomes.set(name, [])
    await host.world.net.listen(443, (conn) => {
      conn.on('data', (d: Buffer) => received.set(name, received.get(name)! + d.length))
      acceptTls(host.world, conn, { key: site.key, cert: site.cert, minVersion: 'TLSv1.3' }).then(
        (tls) => {
          serverOutcomes.get(name)!.push('ok')
          tls.on('error', () => {})
          tls.end(`hello from ${name}`)
        },
        (e: Error) => serverOutcomes.get(name)!.push(e.message),
      )
    })
    // Raw (non-TLS) probes land here.
    await host.world.net.listen(80, (conn) => {
      conn.on('data', (d: Buffer) => received.set(name, received.get(name)! + d.length))
      conn.on('error', () => {})
    })
  }
  return { net, client, received, serverOutcomes }
}

/** How the client's first flight (its ClientHello) goes onto the wire. */
export type FirstFlightWriter = (world: World, conn: Conn, bytes: Uint8Array) => Promise<void>

function write(conn: Conn, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => conn.write(bytes, (e) => (e ? reject(e) : resolve())))
}

export const whole: FirstFlightWriter = (_w, conn, bytes) => write(conn, bytes)

function nameAt(bytes: Uint8Array, name: string): number {
  const at = Buffer.from(bytes).indexOf(Buffer.from(name, 'latin1'))
  if (at < 0) throw new Error(`${name} not in the first flight`)
  return at
}

/** One write per piece, 10 ms apart, cut `into` bytes inside the SNI host name. */
export function tcpSplitInName(name: string, into = 3): FirstFlightWriter {
  return async (world, conn, bytes) => {
    const cut = nameAt(bytes, name) + into
    await write(conn, bytes.subarray(0, cut))
    await new Promise<void>((r) => world.setTimer(10, r))
    await write(conn, bytes.subarray(cut))
  }
}

/** The ClientHello record re-framed as two records cut `into` bytes inside the name; one write. */
export function recordSplitInName(name: string, into = 3): FirstFlightWriter {
  return (_w, conn, bytes) => {
    const { record, used } = decodeRecord(bytes)
    if (record.type !== ContentType.handshake) throw new Error('first flight is not a handshake record')
    const cut = nameAt(record.fragment, name) + into
    const a = record.fragment.subarray(0, cut)
    const b = record.fragment.subarray(cut)
    return write(
      conn,
      concatBytes(
        encodeRecordHeader(ContentType.handshake, record.legacyVersion, a.length),
        a,
        encodeRecordHeader(ContentType.handshake, record.legacyVersion, b.length),
        b,
        bytes.subarray(used),
      ),
    )
  }
}

/** A Duplex for node:tls whose first write goes out through `first`, everything else straight through. */
function firstFlightShim(world: World, conn: Conn, first: FirstFlightWriter): Duplex {
  let pending = true
  const d = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (!pending) return void conn.write(chunk, cb)
      pending = false
      first(world, conn, chunk).then(() => cb(), cb)
    },
    final(cb) {
      conn.end()
      cb()
    },
    read() {
      conn.resume()
    },
    destroy(err, cb) {
      conn.destroy()
      cb(err)
    },
  })
  conn.on('data', (b: Buffer) => {
    if (!d.push(b)) conn.pause()
  })
  conn.on('end', () => d.push(null))
  conn.on('error', (e: Error) => d.destroy(e))
  return d
}

export type Outcome = 'ok' | 'timeout' | string

/** A node:tls client for `name` through the censor; 'ok' once it read the site's greeting. */
export async function tlsThrough(lab: CensoredLab, name: SiteName, first: FirstFlightWriter, timeoutMs = 5000): Promise<Outcome> {
  const world = lab.client.world
  const p = (async (): Promise<Outcome> => {
    const conn = await world.net.connect(SITES[name].address, 443)
    const tls = await connectTls(world, firstFlightShim(world, conn, first) as Conn, { servername: name, ca: labTls().caCert, minVersion: 'TLSv1.3' })
    const greeting = await new Promise<string>((resolve, reject) => {
      tls.once('data', (d: Buffer) => resolve(d.toString()))
      tls.once('error', reject)
    })
    tls.destroy()
    conn.destroy()
    return greeting === `hello from ${name}` ? 'ok' : `wrong greeting ${JSON.stringify(greeting)}`
  })()
  const result = await race(world, p, timeoutMs)
  return result
}

/** The outcome, or 'timeout' after `ms` of virtual time; errors become their code (ECONNRESET …). */
export function race(world: World, p: Promise<Outcome>, ms: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const t = world.setTimer(ms, () => resolve('timeout'))
    p.then(
      (v) => {
        t.cancel()
        resolve(v)
      },
      (e: Error & { code?: string }) => {
        t.cancel()
        resolve(e.code ?? e.message)
      },
    )
  })
}

/** Runs the network until `p` settles. */
export async function settle<T>(lab: CensoredLab, p: Promise<T>): Promise<T> {
  await lab.net.run({ until: p, maxVirtualMs: 120_000 })
  return p
}

/** A hand-built ClientHello record (for hellos node:tls cannot send: ECH, no SNI). */
export function rawHello(opts: { sni?: string; ech?: boolean }): Uint8Array {
  const ext: Extension[] = []
  if (opts.sni !== undefined) ext.push(X.encodeServerName(opts.sni))
  ext.push(X.encodeSupportedVersionsClient([0x0304]))
  ext.push(X.encodeKeyShareClientHello([{ group: 0x001d, keyExchange: new Uint8Array(32).fill(7) }]))
  // An outer ECH extension: type 0 (outer), HPKE suite, config id, enc, payload (RFC 9849 §5); opaque to the censor.
  if (opts.ech) ext.push(X.encodeEncryptedClientHello(Uint8Array.from([0, 0, 0x20, 0, 1, 0, 1, 7, 0, 32, ...new Uint8Array(32).fill(5), 0, 16, ...new Uint8Array(16).fill(6)])))
  const body = encodeClientHello({
    legacyVersion: 0x0303,
    random: new Uint8Array(32).fill(9),
    legacySessionId: new Uint8Array(32).fill(3),
    cipherSuites: [0x1301],
    legacyCompressionMethods: [0],
    extensions: ext,
  })
  const msg = encodeHandshake({ msgType: HandshakeType.clientHello, body })
  return concatBytes(encodeRecordHeader(ContentType.handshake, 0x0301, msg.length), msg)
}

/** Opens a connection to `name`:port, writes `bytes`, waits; returns how many bytes the site received. */
export async function rawProbe(lab: CensoredLab, name: SiteName, port: number, bytes: Uint8Array, waitMs = 1000): Promise<number> {
  const world = lab.client.world
  const before = lab.received.get(name)!
  const p = (async () => {
    const conn = await world.net.connect(SITES[name].address, port)
    conn.on('error', () => {})
    conn.on('data', () => {})
    await write(conn, bytes)
    await new Promise<void>((r) => world.setTimer(waitMs, r))
    conn.destroy()
    return lab.received.get(name)! - before
  })()
  await lab.net.run({ until: p, maxVirtualMs: 120_000 })
  return p
}

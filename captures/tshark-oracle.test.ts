// Live differential test: for every committed capture, tshark is run now (not the committed
// oracle file) and its dissection is compared with ours field by field, both directions:
// records (outer type, version, length), handshake types and lengths, ClientHello/ServerHello
// fields (version, random, suites, extension types in order, SNI, ALPN, supported versions, key
// share groups, HRR), our reassembled TCP streams against `-z follow,tcp,raw,N`, and — with the
// keylog — the inner types of TLS 1.3 records and the decrypted application data against
// `-z follow,tls,raw,N`. tshark missing is a failure (run `make deps`), never a skip.

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { capturesDir, dissectCommitted, listCaptures } from './check.js'
import { applicationPlaintext, compareViews, formatDifference, normaliseOurs, type NormFlow, tsharkFollow, tsharkVersion, tsharkView } from './oracle.js'

const names = listCaptures()

describe('captures vs live tshark', () => {
  it('tshark is installed (else: run `make deps`)', () => {
    // tsharkVersion() throws "tshark is not installed ... run `make deps`" when it is missing;
    // every test below calls tshark itself, so each of them fails too, none is skipped.
    expect(tsharkVersion()).toMatch(/^TShark/)
  })

  it('has the capture set', () => {
    expect(names.length).toBeGreaterThanOrEqual(6)
  })

  for (const name of names) {
    describe(name, () => {
      const pcap = join(capturesDir, `${name}.pcap`)
      const keylogPath = join(capturesDir, `${name}.keylog`)
      const keylog = existsSync(keylogPath) ? keylogPath : undefined
      let cached: { theirs: NormFlow[]; ours: NormFlow[] } | undefined
      const views = () => (cached ??= { theirs: tsharkView(pcap, keylog), ours: normaliseOurs(dissected()) })
      const dissected = () => dissectCommitted(name)

      it('records, handshakes and hello fields equal tshark, both directions', () => {
        const { theirs, ours } = views()
        // tshark must have seen something, so two empty views cannot agree vacuously.
        const records = theirs.reduce((n, f) => n + f.toServer.records.length + f.toClient.records.length, 0)
        const clientHellos = theirs.flatMap((f) => f.toServer.handshakes).filter((h) => h.clientHello)
        expect(records).toBeGreaterThan(0)
        expect(clientHellos.length).toBeGreaterThan(0)
        expect(compareViews(ours, theirs).map(formatDifference)).toEqual([])
      })

      it('TLS 1.3 records decrypt to the inner types tshark shows', () => {
        const { theirs, ours } = views()
        for (const t of theirs) {
          const sh = t.toClient.handshakes.find((h) => h.serverHello && !h.serverHello.helloRetryRequest)?.serverHello
          if (sh?.selectedVersion !== 0x0304) continue
          const o = ours.find((f) => f.stream === t.stream)
          // EncryptedExtensions, Certificate, CertificateVerify, Finished from the server; Finished from the client.
          expect(t.toClient.inner.handshakes.slice(0, 4)).toEqual([8, 11, 15, 20])
          expect(t.toServer.inner.handshakes).toContain(20)
          expect(o?.toClient.inner).toEqual(t.toClient.inner)
          expect(o?.toServer.inner).toEqual(t.toServer.inner)
        }
      })

      it('reassembled TCP streams equal `tshark -z follow,tcp,raw,N` for every flow', () => {
        const { theirs } = views()
        const d = dissected()
        expect(d.flows.length).toBe(theirs.length)
        for (const f of d.flows) {
          const follow = tsharkFollow(pcap, 'tcp', f.flow.id)
          expect(follow.node0).toBe(`${f.flow.client.addr}:${f.flow.client.port}`)
          expect(Buffer.from(f.flow.toServer.bytes).equals(Buffer.from(follow.first))).toBe(true)
          expect(Buffer.from(f.flow.toClient.bytes).equals(Buffer.from(follow.second))).toBe(true)
          expect(f.flow.toServer.bytes.length).toBeGreaterThan(0)
        }
      })

      it('decrypted application data equals `tshark -z follow,tls,raw,N` (TLS 1.3, with keylog)', () => {
        const { theirs } = views()
        expect(keylog, 'every capture is committed with its keylog').toBeDefined()
        let compared = 0
        for (const f of dissected().flows) {
          const plain = applicationPlaintext(f)
          if (!plain) continue
          const follow = tsharkFollow(pcap, 'tls', f.flow.id, keylog!)
          // tshark 4.0 labels the follow,tls nodes inconsistently; node 0's lines are unindented.
          const server = `${f.flow.server.addr}:${f.flow.server.port}`
          const [toServer, toClient] = follow.node0 === server ? [follow.second, follow.first] : [follow.first, follow.second]
          expect(Buffer.from(plain.toServer).toString('hex')).toBe(Buffer.from(toServer).toString('hex'))
          expect(Buffer.from(plain.toClient).toString('hex')).toBe(Buffer.from(toClient).toString('hex'))
          compared += plain.toServer.length + plain.toClient.length
        }
        const tls13 = theirs.some((t) => t.toClient.handshakes.some((h) => h.serverHello?.selectedVersion === 0x0304))
        if (tls13) expect(compared).toBeGreaterThan(0)
      })
    })
  }
})

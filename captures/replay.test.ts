// `sultry replay` on the committed captures: what a user reads must show the facts tshark showed
// us when we recorded them (captures/*.expect.json), and bad input must give a clear error.

import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import replay from '../src/cli/replay.js'
import { parseArgs } from '../src/cli/args.js'
import { capturesDir } from './check.js'

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true))
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true))
  const code = await replay.run(parseArgs(replay.spec, argv))
  vi.restoreAllMocks()
  return { code, out, err }
}

afterEach(() => vi.restoreAllMocks())

describe('sultry replay', () => {
  it('shows the SNI of Chromium\'s ClientHello that spans two TCP segments, and decrypts with the keylog beside it', async () => {
    const r = await run([join(capturesDir, 'chromium-netns.pcap')])
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/2 TCP flow\(s\), key log .*chromium-netns\.keylog/)
    expect(r.out).toMatch(/clientHello\(1\) length \d{4} in record #0\n\s+spans 2 TCP segment\(s\) and 1 TLS record\(s\) \(split\)\n\s+SNI: blocked\.example/)
    expect(r.out).toMatch(/key share groups: GREASE\(0x[0-9a-f]{4}\), X25519MLKEM768, x25519/)
    expect(r.out).toMatch(/inner applicationData\(23\), \d+ bytes: 485454502f312e30.*\|HTTP\/1\.0 200 ok/)
    expect(r.out).toContain('[encryptedExtensions(8)]')
  })

  it('says a ClientHello was fragmented over two records', async () => {
    const r = await run([join(capturesDir, 'openssl-split-records.pcap'), '--no-keylog'])
    expect(r.out).toContain('spans 1 TCP segment(s) and 2 TLS record(s) (split)')
    expect(r.out).toContain('clientHello(1) length 258 in records #0..#1')
    expect(r.out).toContain('no key log')
    expect(r.out).not.toContain('decrypted (')
  })

  it('shows a HelloRetryRequest', async () => {
    const r = await run([join(capturesDir, 'openssl-tls13-hrr.pcap'), '--flow', '0'])
    expect(r.out).toContain('HelloRetryRequest: cipher suite TLS_AES_256_GCM_SHA384, version TLS 1.3 (supported_versions), key share x25519')
  })

  it('--json gives the dissection as data', async () => {
    const r = await run([join(capturesDir, 'openssl-split-segments.pcap'), '--json'])
    const j = JSON.parse(r.out)
    expect(j.flows).toHaveLength(1)
    expect(j.flows[0].tls.client.handshakes[0].clientHello.sni).toBe('blocked.example')
    expect(j.flows[0].tls.client.handshakes[0].span).toEqual({ segments: 2, records: 1 })
  })

  it('fails clearly on a missing file, a non-capture, a missing keylog and an unknown flow', async () => {
    expect(await run(['/nonexistent/x.pcap'])).toMatchObject({ code: 1, err: 'sultry replay: /nonexistent/x.pcap: no such file\n' })
    const dir = mkdtempSync(join(tmpdir(), 'sultry-replay-'))
    writeFileSync(join(dir, 'junk.pcap'), 'this is not a capture file')
    const junk = await run([join(dir, 'junk.pcap')])
    expect(junk.code).toBe(1)
    expect(junk.err).toMatch(/not a readable capture: unsupported: not a pcap or pcapng file/)
    const nokey = await run([join(capturesDir, 'openssl-tls13.pcap'), '--keylog', join(dir, 'none.keylog')])
    expect(nokey).toMatchObject({ code: 1 })
    expect(nokey.err).toMatch(/key log .*none\.keylog: no such file/)
    const noflow = await run([join(capturesDir, 'openssl-tls13.pcap'), '--flow', '7'])
    expect(noflow.code).toBe(1)
    expect(noflow.err).toMatch(/no flow 7 \(flows: 0\)/)
  })
})

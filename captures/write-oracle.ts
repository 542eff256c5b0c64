// Regenerates captures/<name>.oracle.json from tshark (run by the recording scripts, or by hand
// after re-recording): `npx tsx captures/write-oracle.ts NAME [NAME...]`. The file is tshark's
// dissection normalised by captures/oracle.ts, so `make lab` can compare without tshark.

import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { capturesDir } from './check.js'
import { type OracleFile, tsharkArgs, tsharkVersion, tsharkView } from './oracle.js'

const names = process.argv.slice(2)
if (names.length === 0) {
  process.stderr.write('usage: tsx captures/write-oracle.ts NAME [NAME...]\n')
  process.exit(2)
}
for (const name of names) {
  const pcap = join(capturesDir, `${name}.pcap`)
  const keylog = join(capturesDir, `${name}.keylog`)
  if (!existsSync(pcap)) throw new Error(`no capture ${pcap}`)
  const hasKeylog = existsSync(keylog)
  const cmd = (k?: string) => `tshark ${tsharkArgs(`${name}.pcap`, k).map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`
  const oracle: OracleFile = {
    generatedBy: `${tsharkVersion()}; records and plaintext handshakes: ${cmd()}` + (hasKeylog ? `; inner types: ${cmd(`${name}.keylog`)}` : ''),
    flows: tsharkView(pcap, hasKeylog ? keylog : undefined),
  }
  writeFileSync(join(capturesDir, `${name}.oracle.json`), JSON.stringify(oracle, null, 1) + '\n')
  process.stdout.write(`wrote captures/${name}.oracle.json (${oracle.flows.length} flow(s))\n`)
}

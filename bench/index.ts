// `make bench`: every benchmark in one run, each printed as a ratio against a peer measured side by
// side on the same machine at the same moment. Pass names to run only some: `make bench B="wire sim"`.

import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { benchRecords } from './wire-records.js'
import { benchSim } from './sim-transfer.js'

/** Benchmarks that start their own peers run as their own process, so their servers never share our event loop. */
function script(file: string, nodeFlags: string[] = []): () => Promise<void> {
  return async () => {
    const r = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', fileURLToPath(new URL(file, import.meta.url))], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error(`bench ${file} exited ${r.status}`)
  }
}

/**
 * Benchmarks measured inside a real-peer test harness (private tor network, nginx, stock tor): run
 * that test file and print the figure lines it logs.
 */
function fromTest(file: string, lines: RegExp): () => Promise<void> {
  return async () => {
    const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url))
    const r = spawnSync(process.execPath, [vitest, 'run', file, '--reporter=dot'], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' })
    const out = `${r.stdout}\n${r.stderr}`
    const picked = out.split('\n').filter((l) => lines.test(l))
    if (r.status !== 0 || picked.length === 0) throw new Error(`bench via ${file} failed (exit ${r.status}):\n${out.slice(-2000)}`)
    console.log(picked.join('\n'))
  }
}

const benches: Record<string, () => Promise<void>> = {
  async wire() {
    const r = benchRecords()
    console.log(
      `wire  TLS record parsing: ${r.parseMBps.toFixed(0)} MB/s vs Buffer copy ${r.copyMBps.toFixed(0)} MB/s` +
        ` -> ratio ${r.ratio.toFixed(3)} of copy speed (${r.mb.toFixed(0)} MB, ${r.records} records, 16 KiB reads)`,
    )
  },
  async sim() {
    const r = await benchSim()
    console.log(
      `sim   100 MB over a segmenting link: ${(r.realMs / 1000).toFixed(2)} s real, ${(r.virtualMs / 1000).toFixed(2)} s virtual;` +
        ` ${r.virtualMBps.toFixed(1)} virtual MB per real second (${r.segments} segments, ${r.chunks} reads; link runs at ${r.realMBps.toFixed(1)} MB/s virtual)`,
    )
  },
  async proxy() {
    const { benchProxy, formatProxyBench } = await import('./proxy.js')
    console.log(formatProxyBench(await benchProxy()))
  },
  ktls: script('./ktls.ts'),
  // Our Tor client vs C tor on the lab's private network; --expose-gc so the RSS figure is after a gc.
  tor: script('./tor.ts', ['--expose-gc']),
  // Our Tor client through WebTunnel vs the same client straight to the bridge, and vs stock tor
  // through our PT: bootstrap time and 20 MiB bulk time, one run on the lab's private tor network.
  webtunnel: fromTest('lab/webtunnel/tor-pt.test.ts', /^(our Tor client via WebTunnel|  vs )/),
}

const ABOUT: Record<keyof typeof benches, string> = {
  wire: 'TLS record parsing vs a Buffer copy of the same bytes (seconds)',
  sim: 'simulator: 100 MB over a segmenting link, virtual MB per real second (seconds)',
  proxy: 'sultry proxy (direct, record-split, oob-relay) vs no proxy: 1 GiB and 1,000 handshakes through nginx (minutes)',
  ktls: 'sultry fetch vs node https and plain TCP, 1 GiB from nginx (about a minute)',
  tor: 'our Tor client vs C tor on the private tor network: bootstrap, circuits, 100 MB, RSS (minutes)',
  webtunnel: 'our Tor client through WebTunnel vs direct and vs stock tor through our PT (about a minute)',
}

const args = process.argv.slice(2)
if (args.includes('-h') || args.includes('--help')) {
  console.log(`usage: make bench [B="name ..."]   (or: npx tsx bench/index.ts [name ...])

Each benchmark prints its figure as a ratio against a peer run side by side on this machine.
With no names, all run in this order:
${Object.entries(ABOUT).map(([n, a]) => `  ${n.padEnd(10)} ${a}`).join('\n')}`)
  process.exit(0)
}
const unknownFlag = args.find((a) => a.startsWith('-'))
if (unknownFlag) {
  console.error(`bench: unknown option ${unknownFlag} (try --help)`)
  process.exit(2)
}
for (const name of args.length ? args : Object.keys(benches)) {
  const b = benches[name]
  if (!b) {
    console.error(`bench: unknown "${name}"; known: ${Object.keys(benches).join(', ')}`)
    process.exit(2)
  }
  await b()
}

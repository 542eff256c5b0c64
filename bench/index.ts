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

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'))
for (const name of wanted.length ? wanted : Object.keys(benches)) {
  const b = benches[name]
  if (!b) {
    console.error(`bench: unknown "${name}"; known: ${Object.keys(benches).join(', ')}`)
    process.exit(2)
  }
  await b()
}

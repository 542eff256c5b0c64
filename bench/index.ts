// `make bench`: every benchmark in one run, each printed as a ratio against a peer measured side by
// side on the same machine at the same moment. Pass names to run only some: `make bench B="wire sim"`.

import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { benchRecords } from './wire-records.js'
import { benchSim } from './sim-transfer.js'

/** Benchmarks that start their own peers run as their own process, so their servers never share our event loop. */
function script(file: string, ...args: string[]): () => Promise<void> {
  return async () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url)), ...args], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error(`bench ${file} exited ${r.status}`)
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

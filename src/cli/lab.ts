// `sultry lab`: runs lab scenarios in the simulated network (and, with --all, replays every capture
// against its committed oracle and runs the property suites in quick mode), one report line each.

import { spawnSync } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command, CommandSpec, ParsedArgs } from './args.js'
import { UsageError } from './args.js'
import { Report } from '../../lab/report.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

const spec: CommandSpec = {
  name: 'lab',
  summary: 'run lab scenarios in the simulated network; with --all also replay captures and property suites',
  usage: 'sultry lab [--scenario NAME] [--seed N] [--pcap FILE] [--all] [--list] | sultry lab --matrix [--seed N] [--censor-action A]',
  flags: [
    { name: 'scenario', short: 's', type: 'list', value: 'NAME', help: 'run only this scenario (repeatable)' },
    { name: 'seed', type: 'int', value: 'N', help: 'root seed; the same seed replays the same run (default: random, printed)' },
    { name: 'pcap', type: 'string', value: 'FILE', help: 'tap the scenario network to FILE (classic pcap) and FILE.keylog' },
    { name: 'all', type: 'bool', help: 'also replay every capture against its oracle and run the property suites (quick mode)' },
    { name: 'list', type: 'bool', help: 'list scenarios and captures, then exit' },
    { name: 'no-determinism', type: 'bool', help: 'skip the second run of each scenario that checks the trace hash repeats' },
    { name: 'matrix', type: 'bool', help: 'run every proxy strategy against every censor rung C1–C6 and print the table' },
    { name: 'censor-action', type: 'string', value: 'A', help: 'with --matrix: drop (default), rst, or throttle:BYTES' },
  ],
  details: `
Each scenario runs from one root seed; every option the seed chose is printed, and the run ends with a
trace hash. Running again with the same --seed must print the same hash (sultry checks this itself by
running each scenario twice unless --no-determinism).

--pcap FILE writes the simulated traffic as a classic pcap with synthesized IPv4/TCP headers, and the
TLS secrets of every node:tls endpoint in the run to FILE.keylog (SSLKEYLOGFILE format). Open it with:
  tshark -r FILE -o tls.keylog_file:FILE.keylog

--matrix runs the strategy × censor matrix instead of the scenarios: each proxy strategy (direct,
tcp-split, record-split, oob-resolve, oob-relay) and the planner (auto) against each censor rung
C1–C6 in the simulated network with the seed's faults, one measured TLS connection to
blocked.example through the proxy front per cell, plus the handshake time each takes with no censor
next to direct's. It checks the ladder's expected truths and exits 1 if a measured cell disagrees
(lab/matrix/README.md).

Examples:
  sultry lab --matrix --seed 1
  sultry lab --scenario tls-handshake --seed 7 --pcap out/a.pcap
  sultry lab --all --seed 1          (what \`make lab\` runs)

The report ends with "N passed, M failed"; the exit code is 1 if anything failed.`,
}

async function run(args: ParsedArgs): Promise<number> {
  if (args.flags.matrix) return runMatrixCommand(args)
  const { scenarios } = await import('../../lab/scenarios/index.js')
  const captures = await import('../../captures/check.js')
  if (args.flags.list) {
    for (const s of scenarios) process.stdout.write(`scenario  ${s.name.padEnd(16)} ${s.summary}\n`)
    for (const c of captures.listCaptures()) process.stdout.write(`capture   ${c}\n`)
    return 0
  }
  const wanted = (args.flags.scenario as string[] | undefined) ?? []
  for (const w of wanted) {
    if (!scenarios.some((s) => s.name === w)) {
      throw new UsageError(`no scenario "${w}"; known: ${scenarios.map((s) => s.name).join(', ')}`)
    }
  }
  const seed = (args.flags.seed as number | undefined) ?? randomInt(1, 2 ** 31)
  const pcap = args.flags.pcap as string | undefined
  if (pcap && wanted.length !== 1) throw new UsageError('--pcap needs exactly one --scenario')
  if (pcap) mkdirSync(dirname(pcap), { recursive: true })
  const report = new Report(process.stdout)
  report.note(`seed ${seed}  (replay with: sultry lab --seed ${seed}${wanted.map((w) => ` --scenario ${w}`).join('')})`)

  if (args.flags.all) {
    report.section('captures (replayed against their committed tshark oracle)')
    for (const name of captures.listCaptures()) {
      const r = await captures.checkCapture(name)
      report.line('capture', name, r.ok, r.detail)
    }
    report.section('capture regressions (captures/regressions: bugs kept as captures with the assertion that catches them)')
    runVitestSuites(report, 'captures/regressions', 'regress')
    report.section('property suites (quick mode)')
    runVitestSuites(report, 'property-tests', 'property')
  }

  report.section('scenarios (simulated network)')
  for (const s of scenarios.filter((x) => wanted.length === 0 || wanted.includes(x.name))) {
    const log = (l: string) => report.detail(`  ${s.name}: ${l}`)
    let result
    try {
      result = await s.run({ seed, pcap, log })
    } catch (e) {
      report.line('scenario', s.name, false, `crashed: ${e instanceof Error ? e.message : String(e)}`, seed)
      continue
    }
    report.detail(`  ${s.name}: options ${JSON.stringify(result.options)}`)
    let detail = `${result.detail}; virtual ${(result.virtualMs / 1000).toFixed(2)} s; trace ${result.traceHash.slice(0, 16)}`
    let ok = result.ok
    if (ok && !args.flags['no-determinism']) {
      const again = await s.run({ seed, log: () => {} })
      if (again.traceHash !== result.traceHash) {
        ok = false
        detail += `; NOT DETERMINISTIC: second run gave trace ${again.traceHash.slice(0, 16)}`
      } else {
        detail += ' (repeated)'
      }
    }
    if (pcap) detail += `; pcap ${pcap}, keylog ${pcap}.keylog`
    report.line('scenario', s.name, ok, detail, seed)
  }
  if (args.flags.all) {
    report.section('strategy × censor matrix (sultry lab --matrix)')
    await matrixLines(report, seed)
  }
  return report.finish()
}

/** For --all: one report line per matrix row, failing where a measured cell contradicts the expected truths. */
async function matrixLines(report: Report, seed: number): Promise<void> {
  const { runMatrix, formatMatrix } = await import('../../lab/matrix/run.js')
  const { violations } = await import('../../lab/matrix/expectations.js')
  const m = await runMatrix({ seed, action: { kind: 'drop' } })
  for (const l of formatMatrix(m).split('\n')) report.detail(`  ${l}`)
  const bad = violations(m)
  report.line('matrix', 'strategy x censor C1-C6', bad.length === 0, bad.length ? bad.join('; ') : 'expected truths hold', seed)
}

/** `--matrix`: the strategy × censor table, then the expected truths checked against it. */
async function runMatrixCommand(args: ParsedArgs): Promise<number> {
  const { runMatrix, formatMatrix } = await import('../../lab/matrix/run.js')
  const { violations } = await import('../../lab/matrix/expectations.js')
  const seed = (args.flags.seed as number | undefined) ?? randomInt(1, 2 ** 31)
  const a = (args.flags['censor-action'] as string | undefined) ?? 'drop'
  const throttle = /^throttle:(\d+)$/.exec(a)
  if (a !== 'drop' && a !== 'rst' && !throttle) throw new UsageError(`--censor-action: want drop, rst or throttle:BYTES, got "${a}"`)
  const action = throttle ? { kind: 'throttle' as const, afterBytes: Number(throttle[1]) } : { kind: a as 'drop' | 'rst' }
  const m = await runMatrix({ seed, action })
  process.stdout.write(`${formatMatrix(m)}\n`)
  process.stdout.write(`links (from the seed): ${JSON.stringify(m.options.links)}\n`)
  const bad = violations(m)
  if (bad.length === 0) {
    process.stdout.write(`expected truths hold: direct blocked by every rung; tcp-split beats C1–C2; record-split C1–C3; oob-relay C1–C6 (replay: sultry lab --matrix --seed ${seed})\n`)
    return 0
  }
  for (const v of bad) process.stdout.write(`UNEXPECTED ${v}\n`)
  return 1
}

/** Runs the vitest files under `dir` in quick mode and reports one line per file. */
function runVitestSuites(report: Report, dir: string, kind: string): void {
  const outDir = join(root, 'out')
  mkdirSync(outDir, { recursive: true })
  const outFile = join(outDir, `${kind}-quick.json`)
  rmSync(outFile, { force: true })
  const res = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', dir, '--reporter=json', `--outputFile=${outFile}`],
    { cwd: root, env: { ...process.env, SULTRY_QUICK: '1' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let parsed: VitestJson
  try {
    parsed = JSON.parse(readFileSync(outFile, 'utf8')) as VitestJson
  } catch {
    report.line(kind, dir, false, `vitest produced no report (exit ${res.status}): ${res.stderr.slice(-400)}`)
    return
  }
  for (const file of parsed.testResults) {
    const tests = file.assertionResults
    const failed = tests.filter((t) => t.status !== 'passed')
    const name = relative(join(root, dir), file.name).replace(/\.test\.ts$/, '')
    const detail = failed.length
      ? `${failed.length}/${tests.length} failed: ${failed.map((t) => t.title).join('; ').slice(0, 300)}${file.message ? ` — ${file.message.slice(0, 200)}` : ''}`
      : `${tests.length} ${kind === 'property' ? 'properties hold' : 'checks pass'}`
    report.line(kind, name, failed.length === 0 && file.status === 'passed', detail)
    for (const t of failed) for (const m of t.failureMessages ?? []) report.detail(`    ${m.split('\n').slice(0, 6).join('\n    ')}`)
  }
}

interface VitestJson {
  testResults: {
    name: string
    status: string
    message?: string
    assertionResults: { title: string; status: string; failureMessages?: string[] }[]
  }[]
}

const command: Command = { spec, run }
export default command

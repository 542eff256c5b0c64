// The strategy × censor matrix: every strategy the proxy has, against every rung C1–C6, each cell a
// measured connection to blocked.example in its own simulated network (same seed, so the same
// fault mix in every cell), plus the handshake time each strategy takes on an uncensored network
// next to direct's. Controls keep the table honest: direct to allowed.example must work under every
// rung (the censor is not just breaking everything), and oob-relay with its helper's address or its
// cover SNI listed must be blocked (the relay wins only because those are not listed).

import { censorFor, RUNGS, type CensorAction, type Rung } from '../../src/net/sim/censor/index.js'
import { strategies } from '../../src/proxy/strategies/index.js'
import { STRATEGY_NAMES } from '../../src/proxy/strategy.js'
import { attempt, browse, labProxy, type AttemptResult, type BrowseResult, type Choice } from './attempt.js'
import { HELPER, matrixLab, type OriginName } from './topology.js'

export interface MatrixOptions {
  seed: number
  /** What the censor does to a blocked flow (default drop). */
  action?: CensorAction
  /** Rungs to run (default all). */
  rungs?: readonly Rung[]
  log?(line: string): void
}

/** One cell: the loads it took, and what the proxy logged. */
export interface Cell extends BrowseResult {
  log: string[]
}

/**
 * Loads per cell. auto gets one reload after a failed load, as a browser's user would do: its
 * planner learns from a load that froze after the handshake (which no strategy can rescue, the TLS
 * state being bound to the frozen connection). A fixed strategy learns nothing, so it gets one.
 */
export function loadsFor(choice: Choice): number {
  return choice === 'auto' ? 2 : 1
}

export interface Row {
  label: string
  strategy: Choice
  origin: OriginName
  /** Absent when the strategy is not built. */
  cells: Partial<Record<Rung, Cell>>
  /** Uncensored network: first connection (cold: includes the OOB channel setup) and second (warm). */
  baseline?: { cold: AttemptResult; warm: AttemptResult }
  built: boolean
}

export interface MatrixResult {
  seed: number
  action: CensorAction
  rungs: readonly Rung[]
  rows: Row[]
  /** The link options the seed chose (the same in every cell). */
  options: Record<string, unknown>
}

type Variant = 'plain' | 'helper-ip-listed' | 'cover-sni-listed'

const BLOCKLIST = { names: ['blocked.example'] }

function blocklistFor(v: Variant) {
  if (v === 'helper-ip-listed') return { ...BLOCKLIST, ips: [HELPER.address] }
  if (v === 'cover-sni-listed') return { names: [...BLOCKLIST.names, HELPER.coverSni] }
  return BLOCKLIST
}

async function cell(seed: number, rung: Rung, action: CensorAction, choice: Choice, origin: OriginName, v: Variant): Promise<Cell> {
  const censor = censorFor(rung, { blocklist: blocklistFor(v), action })
  const lab = await matrixLab({ seed, censor })
  const log: string[] = []
  const r = await browse(lab, labProxy(lab, choice, (l) => log.push(l)), origin, loadsFor(choice))
  return { ...r, log }
}

/** No censor: a first connection (cold) and a second through the same proxy (warm: pooled OOB channel, remembered verdict). */
async function baseline(seed: number, choice: Choice, origin: OriginName): Promise<{ cold: AttemptResult; warm: AttemptResult; options: Record<string, unknown> }> {
  const lab = await matrixLab({ seed })
  const proxy = labProxy(lab, choice)
  const cold = await attempt(lab, proxy, origin)
  const warm = await attempt(lab, proxy, origin)
  return { cold, warm, options: lab.net.options() }
}

export async function runMatrix(o: MatrixOptions): Promise<MatrixResult> {
  const action = o.action ?? { kind: 'drop' }
  const rungs = o.rungs ?? RUNGS
  const built = new Set<string>(Object.keys(strategies()))
  const rows: Row[] = []
  let options: Record<string, unknown> = {}
  const plan: { label: string; strategy: Choice; origin: OriginName; variant: Variant; timed: boolean }[] = [
    ...STRATEGY_NAMES.map((s) => ({ label: s, strategy: s, origin: 'blocked.example' as const, variant: 'plain' as const, timed: true })),
    { label: 'auto (planner)', strategy: 'auto', origin: 'blocked.example', variant: 'plain', timed: true },
    { label: 'control: direct → allowed.example', strategy: 'direct', origin: 'allowed.example', variant: 'plain', timed: false },
    { label: 'control: oob-relay, helper IP listed', strategy: 'oob-relay', origin: 'blocked.example', variant: 'helper-ip-listed', timed: false },
    { label: 'control: oob-relay, cover SNI listed', strategy: 'oob-relay', origin: 'blocked.example', variant: 'cover-sni-listed', timed: false },
  ]
  for (const p of plan) {
    // auto is built when the planner has every strategy to choose from.
    const isBuilt = p.strategy === 'auto' ? STRATEGY_NAMES.every((s) => built.has(s)) : built.has(p.strategy)
    const row: Row = { label: p.label, strategy: p.strategy, origin: p.origin, cells: {}, built: isBuilt }
    rows.push(row)
    if (!isBuilt) {
      o.log?.(`${p.label}: not built`)
      continue
    }
    if (p.timed) {
      const b = await baseline(o.seed, p.strategy, p.origin)
      row.baseline = { cold: b.cold, warm: b.warm }
      options = b.options
    }
    for (const rung of rungs) {
      const r = await cell(o.seed, rung, action, p.strategy, p.origin, p.variant)
      row.cells[rung] = r
      const before = r.earlier.map((e) => `${loadText(e)}, then `).join('')
      o.log?.(`${p.label} × ${rung}: ${before}${r.works ? 'works' : 'blocked'} (${r.reason}${r.used ? `, used ${r.used}` : ''})`)
      for (const l of r.log.filter((x) => x.includes('throttled on'))) o.log?.(`  ${l}`)
    }
  }
  return { seed: o.seed, action, rungs, rows, options }
}

/** A failed load in a few words: frozen when its handshake completed. */
function loadText(r: AttemptResult): string {
  return r.works ? 'works' : r.handshakeMs !== undefined ? `froze (${r.reason})` : `blocked (${r.reason})`
}

const ms = (n: number | undefined) => (n === undefined ? '—' : `${Math.round(n)} ms`)
const plus = (n: number | undefined, base: number | undefined) =>
  n === undefined || base === undefined ? '—' : `${n - base >= 0 ? '+' : ''}${Math.round(n - base)} ms`

/** The printed table: one row per strategy (and control), one column per rung, then the timings. */
export function formatMatrix(m: MatrixResult): string {
  const d = m.rows.find((r) => r.label === 'direct')?.baseline
  const direct = d && d.cold.works && d.warm.works ? d : undefined
  const header = ['strategy → blocked.example', ...m.rungs, 'handshake C0 (cold / warm)', 'vs direct (cold / warm)']
  const lines: string[][] = [header]
  for (const r of m.rows) {
    if (!r.built) {
      lines.push([r.label, ...m.rungs.map(() => 'not built'), '', ''])
      continue
    }
    const cells = m.rungs.map((g) => {
      const c = r.cells[g]
      if (c === undefined) return ''
      return c.works ? (c.earlier.length > 0 ? `works (load ${c.earlier.length + 1})` : 'works') : 'blocked'
    })
    // Timings only from baseline runs that worked.
    const b = r.baseline && r.baseline.cold.works && r.baseline.warm.works ? r.baseline : undefined
    const timing = b ? `${ms(b.cold.handshakeMs)} / ${ms(b.warm.handshakeMs)}` : ''
    const delta = b ? `${plus(b.cold.handshakeMs, direct?.cold.handshakeMs)} / ${plus(b.warm.handshakeMs, direct?.warm.handshakeMs)}` : ''
    lines.push([r.label, ...cells, timing, delta])
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)))
  const text = lines.map((l) => l.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd())
  const action = m.action.kind === 'throttle' ? `throttle after ${m.action.afterBytes} B` : m.action.kind
  const auto = m.rows.find((r) => r.strategy === 'auto' && r.built)
  const pick = (g: Rung) => {
    const c = auto!.cells[g]
    const before = (c?.earlier ?? []).map((e) => `${e.used ?? '-'} ${loadText(e)} → `).join('')
    return `${g} ${before}${c?.used ?? '-'} (${c?.works ? `handshake ${ms(c.handshakeMs)}` : 'blocked'})`
  }
  const picks = auto ? [`auto picked: ${m.rungs.map(pick).join(', ')}; with no censor ${auto.baseline?.cold.used ?? '-'}`] : []
  return [
    `strategy × censor matrix — seed ${m.seed}, censor action ${action}, blocklist SNI blocked.example (C0 = no censor)`,
    ...text,
    ...picks,
  ].join('\n')
}

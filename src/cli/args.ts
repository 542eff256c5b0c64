// A small, strict argument parser for the `sultry` subcommands: known flags only, typed values,
// and an error that names the flag, so every subcommand's --help and errors look the same.

export interface FlagSpec {
  /** Long name without dashes, e.g. "seed". */
  name: string
  /** Optional one-letter alias, e.g. "o". */
  short?: string
  /** 'bool' flags take no value; 'list' flags may repeat. */
  type: 'string' | 'int' | 'bool' | 'list'
  /** Placeholder shown in help, e.g. "FILE". */
  value?: string
  help: string
  default?: string | number | boolean
}

export interface CommandSpec {
  name: string
  summary: string
  usage: string
  flags: FlagSpec[]
  /** Extra paragraphs for --help: examples, conventions. */
  details?: string
}

export type ParsedArgs = {
  flags: Record<string, string | number | boolean | string[] | undefined>
  positionals: string[]
}

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export function parseArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const flags: ParsedArgs['flags'] = {}
  for (const f of spec.flags) if (f.default !== undefined) flags[f.name] = f.default
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a)
      continue
    }
    let name: string
    let inline: string | undefined
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      name = eq < 0 ? a.slice(2) : a.slice(2, eq)
      inline = eq < 0 ? undefined : a.slice(eq + 1)
    } else {
      name = a.slice(1)
    }
    const f = spec.flags.find((x) => x.name === name || x.short === name)
    if (!f) throw new UsageError(`unknown option ${a} (see: sultry ${spec.name} --help)`)
    if (f.type === 'bool') {
      if (inline !== undefined) throw new UsageError(`--${f.name} takes no value`)
      flags[f.name] = true
      continue
    }
    const v = inline ?? argv[++i]
    if (v === undefined) throw new UsageError(`--${f.name} needs a value (${f.value ?? 'VALUE'})`)
    if (f.type === 'int') {
      if (!/^-?\d+$/.test(v)) throw new UsageError(`--${f.name} expects an integer, got "${v}"`)
      flags[f.name] = Number(v)
    } else if (f.type === 'list') {
      const prev = flags[f.name]
      flags[f.name] = [...(Array.isArray(prev) ? prev : []), v]
    } else {
      flags[f.name] = v
    }
  }
  return { flags, positionals }
}

export function helpText(spec: CommandSpec): string {
  const lines = [`sultry ${spec.name} — ${spec.summary}`, '', `Usage: ${spec.usage}`, '']
  if (spec.flags.length) {
    lines.push('Options:')
    const rows = spec.flags.map((f) => {
      const left = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.type === 'bool' ? '' : ` ${f.value ?? 'VALUE'}`}`
      const def = f.default !== undefined && f.type !== 'bool' ? ` (default: ${f.default})` : ''
      return [left, f.help + def] as const
    })
    rows.push(['-h, --help', 'show this help'])
    const w = Math.max(...rows.map((r) => r[0].length))
    for (const [l, r] of rows) lines.push(`  ${l.padEnd(w)}  ${r}`)
  }
  if (spec.details) lines.push('', spec.details.trim())
  return lines.join('\n') + '\n'
}

/** What each src/cli/<name>.ts exports as default. */
export interface Command {
  spec: CommandSpec
  /** Returns the process exit code. */
  run(args: ParsedArgs): Promise<number>
}

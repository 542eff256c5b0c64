// `sultry` entry point: finds the subcommand, handles --help uniformly, maps errors to exit codes.
// Exit codes: 0 ok, 1 the work failed (a regression, a failed check), 2 usage error.

import { helpText, parseArgs, UsageError, type Command } from './args.js'

/** Subcommands load lazily so `sultry --help` stays fast. One file per subcommand. */
const commands: Record<string, () => Promise<{ default: Command }>> = {
  lab: () => import('./lab.js'),
  replay: () => import('./replay.js'),
}

function topHelp(): string {
  return `sultry — a protocol lab for censorship circumvention

Usage: sultry <command> [options]   (sultry <command> --help for details)

Commands:
  lab       run lab scenarios in the simulated network, replay captures, run the matrix
  replay    dissect a pcap/pcapng: flows, TLS records, handshakes, SNI, ALPN; decrypt with a keylog

Exit codes: 0 success, 1 the run found a failure, 2 bad usage.
`
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topHelp())
    return name ? 0 : 2
  }
  const load = commands[name]
  if (!load) {
    process.stderr.write(`sultry: unknown command "${name}"\n\n${topHelp()}`)
    return 2
  }
  const cmd = (await load()).default
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpText(cmd.spec))
    return 0
  }
  try {
    return await cmd.run(parseArgs(cmd.spec, rest))
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`sultry ${name}: ${e.message}\n`)
      return 2
    }
    throw e
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    process.stderr.write(`sultry: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    process.exitCode = 1
  },
)

// Runs the `fetch` subcommand exactly as src/cli/main.ts runs a registered command (help, argument
// parsing, UsageError -> exit 2). main.ts registers `fetch` too; this single entry point is what the
// child-process tests run and what the kTLS VM bundles with esbuild (no command registry to load).

import { helpText, parseArgs, UsageError } from '../../cli/args.js'
import command from '../../cli/fetch.js'

const argv = process.argv.slice(2)
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(helpText(command.spec))
} else {
  try {
    process.exitCode = await command.run(parseArgs(command.spec, argv))
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    process.stderr.write(`sultry fetch: ${e.message}\n`)
    process.exitCode = 2
  }
}

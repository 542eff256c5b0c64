// Test-only: runs one `sultry` subcommand (src/cli/<name>.ts) as its own process, the way
// bin/sultry.js would once the command is registered in src/cli/main.ts.
//   node --import tsx src/proxy/testkit/run-cli.ts oob-server --listen …

import { parseArgs, UsageError } from '../../cli/args.js'

const [name, ...rest] = process.argv.slice(2)
const cmd = (await import(`../../cli/${name}.ts`)).default as typeof import('../../cli/proxy.js').default
try {
  process.exitCode = await cmd.run(parseArgs(cmd.spec, rest))
} catch (e) {
  process.stderr.write(`sultry ${name}: ${e instanceof UsageError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  process.exitCode = e instanceof UsageError ? 2 : 1
}

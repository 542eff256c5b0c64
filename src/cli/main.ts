// `sultry` entry point: finds the subcommand, handles --help uniformly, maps errors to exit codes.
// Exit codes: 0 ok, 1 the work failed (a regression, a failed check), 2 usage error.

import { helpText, parseArgs, UsageError, type Command } from './args.js'

/** Subcommands load lazily so `sultry --help` stays fast. One file per subcommand. */
const commands: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = {
  lab: { summary: 'run lab scenarios in the simulated network, replay captures, the strategy x censor matrix', load: () => import('./lab.js') },
  replay: { summary: 'dissect a pcap/pcapng: flows, TLS records, handshakes, SNI, ALPN; decrypt with a keylog', load: () => import('./replay.js') },
  proxy: { summary: 'local HTTP CONNECT + SOCKS5 proxy that gets TLS past an SNI censor', load: () => import('./proxy.js') },
  'oob-server': { summary: 'the out-of-band helper server the proxy relays and resolves through', load: () => import('./oob-server.js') },
  tor: { summary: 'Tor client with a SOCKS5/SOCKS4a/HTTP CONNECT front', load: () => import('./tor.js') },
  'webtunnel-client': { summary: 'WebTunnel pluggable transport, client side (managed by tor, or standalone)', load: () => import('./webtunnel-client.js') },
  'webtunnel-server': { summary: 'WebTunnel pluggable transport, server side behind a reverse proxy', load: () => import('./webtunnel-server.js') },
  fetch: { summary: 'HTTPS client that hands TLS traffic keys to the kernel (kTLS), with honest fallback', load: () => import('./fetch.js') },
}

function topHelp(): string {
  const w = Math.max(...Object.keys(commands).map((n) => n.length))
  const list = Object.entries(commands)
    .map(([n, c]) => `  ${n.padEnd(w)}  ${c.summary}`)
    .join('\n')
  return `sultry — a protocol lab for censorship circumvention

Usage: sultry <command> [options]   (sultry <command> --help for details)

Commands:
${list}

Exit codes: 0 success, 1 the run found a failure, 2 bad usage (some commands add their own; see their --help).
`
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topHelp())
    return name ? 0 : 2
  }
  const entry = commands[name]
  if (!entry) {
    process.stderr.write(`sultry: unknown command "${name}"\n\n${topHelp()}`)
    return 2
  }
  const cmd = (await entry.load()).default
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

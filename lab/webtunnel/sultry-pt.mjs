#!/usr/bin/env node
// Test-only launcher for the WebTunnel PT commands, for tor's ClientTransportPlugin /
// ServerTransportPlugin "exec" lines while src/cli/main.ts does not list them yet:
//   node lab/webtunnel/sultry-pt.mjs webtunnel-server|webtunnel-client [flags]
import { register } from 'tsx/esm/api'

register()
const [name, ...rest] = process.argv.slice(2)
if (name !== 'webtunnel-server' && name !== 'webtunnel-client') throw new Error(`not a WebTunnel command: ${name}`)
const { parseArgs } = await import('../../src/cli/args.ts')
const cmd = (await import(`../../src/cli/${name}.ts`)).default
process.exitCode = await cmd.run(parseArgs(cmd.spec, rest))

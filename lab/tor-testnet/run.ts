// Script front for the launcher:
//   npx tsx lab/tor-testnet/run.ts start DIR [BASE_PORT]   build + start + wait; prints the network
//   npx tsx lab/tor-testnet/run.ts stop  DIR               stop exactly the pids recorded in DIR/pids
// A network started here outlives this script (no owning process); stop it with "stop".

import { startTestnet, stopRecorded } from './testnet.js'

const [cmd, dir, basePort] = process.argv.slice(2)
if (!dir || (cmd !== 'start' && cmd !== 'stop')) {
  console.error('usage: run.ts start DIR [BASE_PORT] | stop DIR')
  process.exit(2)
}
const log = (l: string) => console.error(`[tor-testnet] ${l}`)
if (cmd === 'stop') {
  await stopRecorded(dir, log)
} else {
  const net = await startTestnet(dir, { basePort: basePort ? Number(basePort) : undefined, ownerPid: null, log })
  console.log(`network dir : ${net.dir} (pids: ${net.dir}/pids, json: ${net.dir}/network.json)`)
  console.log(`SocksPort   : c0=${net.socks.host}:${net.socks.port} bc0(via bridge)=${net.bridgeSocks.host}:${net.bridgeSocks.port}`)
  for (const a of net.authorities) console.log(`DirAuthority ${a}`)
  console.log(`Bridge ${net.bridgeLine}`)
  for (const r of net.relays) console.log(`  ${r.nick.padEnd(3)} ${r.role.padEnd(5)} ${r.address}:${r.orPort} rsa-id ${r.fingerprint} ed25519-id ${r.ed25519}`)
  console.log(`timings (ms): ${JSON.stringify(net.timings)}`)
}

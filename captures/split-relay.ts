// A recording tool, not protocol code: a loopback TCP relay that cuts the client's first TLS record
// so that real captures show a ClientHello split the way circumvention tools split it.
//   --mode segments : the first record goes out in two write()s with Nagle off and a gap between
//                     them, so it crosses the wire as two TCP segments;
//   --mode records  : the first record's handshake body is re-framed as two handshake records
//                     (content type 22 each) sent in one write, so one TCP segment carries two records.
// The cut lands inside the SNI host name (found by searching for --sni), as a censor-evasion split would.
// Usage: tsx captures/split-relay.ts --listen PORT --connect PORT --mode segments|records --sni NAME

import { createConnection, createServer, type Socket } from 'node:net'

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`)
  const v = i < 0 ? undefined : process.argv[i + 1]
  if (v === undefined) throw new Error(`split-relay: missing --${name}`)
  return v
}

const listenPort = Number(arg('listen'))
const connectPort = Number(arg('connect'))
const mode = arg('mode')
const sni = Buffer.from(arg('sni'), 'latin1')
if (mode !== 'segments' && mode !== 'records') throw new Error(`split-relay: bad --mode ${mode}`)

/** Offset of the cut inside the record body: a few bytes into the SNI host name. */
function cutPoint(body: Buffer): number {
  const at = body.indexOf(sni)
  if (at < 0) throw new Error('split-relay: SNI not found in the first record')
  return at + 4
}

function sendFirstRecord(record: Buffer, upstream: Socket, done: () => void): void {
  const body = record.subarray(5)
  const cut = cutPoint(body)
  if (mode === 'segments') {
    upstream.write(record.subarray(0, 5 + cut))
    setTimeout(() => {
      upstream.write(record.subarray(5 + cut))
      done()
    }, 50)
    return
  }
  const header = (len: number) => Buffer.from([record[0], record[1], record[2], len >> 8, len & 0xff])
  upstream.write(Buffer.concat([header(cut), body.subarray(0, cut), header(body.length - cut), body.subarray(cut)]))
  done()
}

const server = createServer((client) => {
  client.setNoDelay(true)
  const upstream = createConnection({ host: '127.0.0.1', port: connectPort })
  upstream.setNoDelay(true)
  let pending: Buffer = Buffer.alloc(0)
  let firstDone = false
  const later: Buffer[] = []
  client.on('data', (chunk: Buffer) => {
    if (firstDone) {
      upstream.write(chunk)
      return
    }
    pending = Buffer.concat([pending, chunk])
    if (pending.length < 5) return
    const total = 5 + pending.readUInt16BE(3)
    if (pending.length < total) return
    const record = pending.subarray(0, total)
    const rest = pending.subarray(total)
    firstDone = true
    if (rest.length) later.push(rest)
    client.pause()
    sendFirstRecord(record, upstream, () => {
      for (const b of later) upstream.write(b)
      client.resume()
    })
  })
  upstream.on('data', (d: Buffer) => client.write(d))
  client.on('end', () => upstream.end())
  upstream.on('end', () => client.end())
  client.on('error', () => upstream.destroy())
  upstream.on('error', () => client.destroy())
})
server.listen(listenPort, '127.0.0.1', () => process.stdout.write(`split-relay listening on ${listenPort}\n`))

// TLS record parsing throughput, as a ratio to the cheapest thing that touches the same bytes: a
// plain Buffer copy. The stream is cut into 16 KiB reads (what a socket typically hands us), so the
// reader's partial-record path is exercised as much as its whole-record fast path.

import { RecordReader } from '../src/wire/tls/record-reader.js'
import { encodeRecord } from '../src/wire/tls/record.js'

export interface RecordBench {
  mb: number
  copyMBps: number
  parseMBps: number
  ratio: number
  records: number
}

function makeStream(totalBytes: number): { stream: Uint8Array; records: number } {
  const parts: Uint8Array[] = []
  let n = 0
  let records = 0
  // Deterministic record sizes: a mix of tiny (alerts, handshake pieces) and full application records.
  let x = 12345
  while (n < totalBytes) {
    x = (x * 1103515245 + 12345) >>> 0
    const len = x % 4 === 0 ? x % 300 : 16384
    const rec = encodeRecord({ type: 23, legacyVersion: 0x0303, fragment: new Uint8Array(len).fill(x & 0xff) })
    parts.push(rec)
    n += rec.length
    records++
  }
  return { stream: Buffer.concat(parts), records }
}

function best(rounds: number, fn: () => void): number {
  let bestMs = Infinity
  for (let i = 0; i < rounds; i++) {
    const t = performance.now()
    fn()
    bestMs = Math.min(bestMs, performance.now() - t)
  }
  return bestMs
}

export function benchRecords(totalBytes = 64 * 1024 * 1024, chunk = 16 * 1024): RecordBench {
  const { stream, records } = makeStream(totalBytes)
  const src = Buffer.from(stream.buffer, stream.byteOffset, stream.byteLength)
  const dst = Buffer.alloc(src.length)
  const copyMs = best(5, () => {
    for (let at = 0; at < src.length; at += chunk) src.copy(dst, at, at, Math.min(at + chunk, src.length))
  })
  let seen = 0
  const parseMs = best(5, () => {
    const reader = new RecordReader()
    seen = 0
    for (let at = 0; at < stream.length; at += chunk) seen += reader.push(stream.subarray(at, at + chunk)).length
  })
  if (seen !== records) throw new Error(`parsed ${seen} records, expected ${records}`)
  const mb = stream.length / 1e6
  return { mb, copyMBps: mb / (copyMs / 1000), parseMBps: mb / (parseMs / 1000), ratio: copyMs / parseMs, records }
}

// One directory request (dir-spec §6): HTTP/1.0 GET over any byte stream — a DirPort TCP
// connection while bootstrapping, or a BEGIN_DIR stream — read to the end, bounded in size.

import type { Duplex } from 'node:stream'
import { WireError, concatBytes } from '../../wire/bytes.js'
import { parseResponseHead } from '../../wire/http/response-head.js'
import type { Timer, World } from '../../net/world.js'

/** The largest directory answer we accept (a full consensus with microdescs is a few MB). */
export const MAX_DIR_RESPONSE = 32 << 20

export class DirFetchError extends Error {
  override readonly name = 'DirFetchError'
  constructor(
    readonly path: string,
    detail: string,
    readonly status?: number,
  ) {
    super(`GET ${path}: ${detail}`)
  }
}

export function httpGet(world: World, stream: Duplex, path: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = []
    let size = 0
    let settled = false
    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      timer.cancel()
      stream.destroy()
      fn()
    }
    const timer: Timer = world.setTimer(timeoutMs, () => finish(() => reject(new DirFetchError(path, `no answer within ${timeoutMs} ms`))))
    stream.on('data', (d: Buffer) => {
      size += d.length
      if (size > MAX_DIR_RESPONSE) return finish(() => reject(new DirFetchError(path, `answer over ${MAX_DIR_RESPONSE} bytes`)))
      chunks.push(new Uint8Array(d))
    })
    stream.on('error', (e) => finish(() => reject(new DirFetchError(path, e.message))))
    stream.on('end', () =>
      finish(() => {
        const all = concatBytes(...chunks)
        let parsed
        try {
          parsed = parseResponseHead(all)
        } catch (e) {
          return reject(new DirFetchError(path, e instanceof WireError ? `bad HTTP answer: ${e.message}` : String(e)))
        }
        if (parsed.head.status !== 200) return reject(new DirFetchError(path, `status ${parsed.head.status}`, parsed.head.status))
        resolve(Buffer.from(all.subarray(parsed.used)).toString('latin1'))
      }),
    )
    stream.write(`GET ${path} HTTP/1.0\r\n\r\n`)
  })
}

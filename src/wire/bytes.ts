// The byte-level toolkit every codec in src/wire uses: one typed error, a bounds-checked Reader
// and a growable Writer. After arti's tor-bytes: a short input is `truncated` with the number of
// bytes still needed, so streaming callers can wait instead of failing.

export type WireErrorCode =
  | 'truncated' // more bytes are needed; `needed` says how many at least
  | 'bad-length' // a length field disagrees with its container or a limit
  | 'bad-value' // a field holds a value the protocol forbids
  | 'too-large' // input exceeds a configured size limit
  | 'trailing' // bytes left over where the structure must end
  | 'unsupported' // well-formed, but a version/feature we do not speak

export class WireError extends Error {
  override readonly name = 'WireError'
  constructor(
    readonly code: WireErrorCode,
    detail: string = code,
    /** For `truncated`: how many more bytes are needed at least. */
    readonly needed = 0,
  ) {
    super(detail)
  }

  static truncated(needed: number, what: string): WireError {
    return new WireError('truncated', `${what}: need ${needed} more byte(s)`, needed)
  }
}

export function isTruncated(e: unknown): e is WireError {
  return e instanceof WireError && e.code === 'truncated'
}

/** A cursor over untrusted bytes. Every read checks bounds first; views are not copies. */
export class Reader {
  private pos = 0
  constructor(
    readonly buf: Uint8Array,
    /** Name used in error messages ("ClientHello", "SOCKS5 request" …). */
    readonly what = 'input',
  ) {}

  get offset(): number {
    return this.pos
  }
  get remaining(): number {
    return this.buf.length - this.pos
  }

  /** Throws `truncated` unless `n` more bytes are available. */
  need(n: number): void {
    if (this.remaining < n) throw WireError.truncated(n - this.remaining, this.what)
  }

  u8(): number {
    this.need(1)
    return this.buf[this.pos++]
  }
  u16(): number {
    this.need(2)
    const v = (this.buf[this.pos] << 8) | this.buf[this.pos + 1]
    this.pos += 2
    return v
  }
  u24(): number {
    this.need(3)
    const v = (this.buf[this.pos] << 16) | (this.buf[this.pos + 1] << 8) | this.buf[this.pos + 2]
    this.pos += 3
    return v
  }
  u32(): number {
    this.need(4)
    const b = this.buf
    const p = this.pos
    this.pos += 4
    return ((b[p] << 24) >>> 0) + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3])
  }
  u64(): bigint {
    const hi = this.u32()
    const lo = this.u32()
    return (BigInt(hi) << 32n) | BigInt(lo)
  }
  /** A view of the next `n` bytes (shares memory with the input). */
  bytes(n: number): Uint8Array {
    this.need(n)
    const v = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }
  rest(): Uint8Array {
    return this.bytes(this.remaining)
  }
  skip(n: number): void {
    this.need(n)
    this.pos += n
  }
  peekU8(at = 0): number {
    this.need(at + 1)
    return this.buf[this.pos + at]
  }

  /** Reads a u8/u16/u24-length-prefixed vector and returns a Reader over exactly its body. */
  vec8(): Reader {
    return this.sub(this.u8())
  }
  vec16(): Reader {
    return this.sub(this.u16())
  }
  vec24(): Reader {
    return this.sub(this.u24())
  }
  sub(n: number, what = this.what): Reader {
    return new Reader(this.bytes(n), what)
  }

  /** Inside a length-delimited container a short body is malformed, not "wait for more". */
  expectEnd(): void {
    if (this.remaining !== 0) throw new WireError('trailing', `${this.what}: ${this.remaining} trailing byte(s)`)
  }
}

/**
 * Runs `fn` on a Reader over a complete, length-delimited body: running out of bytes inside it
 * means the length field lied, so `truncated` becomes `bad-length`.
 */
export function within<T>(r: Reader, fn: (r: Reader) => T): T {
  try {
    const v = fn(r)
    r.expectEnd()
    return v
  } catch (e) {
    if (e instanceof WireError && e.code === 'truncated') {
      throw new WireError('bad-length', `${r.what}: length field shorter than its contents`)
    }
    throw e
  }
}

/** An append-only byte builder with back-patched length prefixes. */
export class Writer {
  private buf: Uint8Array
  private len = 0
  constructor(initial = 256) {
    this.buf = new Uint8Array(initial)
  }

  get length(): number {
    return this.len
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.len + n) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }

  u8(v: number): this {
    checkUint(v, 0xff)
    this.reserve(1)
    this.buf[this.len++] = v
    return this
  }
  u16(v: number): this {
    checkUint(v, 0xffff)
    this.reserve(2)
    this.buf[this.len++] = v >> 8
    this.buf[this.len++] = v & 0xff
    return this
  }
  u24(v: number): this {
    checkUint(v, 0xffffff)
    this.reserve(3)
    this.buf[this.len++] = v >> 16
    this.buf[this.len++] = (v >> 8) & 0xff
    this.buf[this.len++] = v & 0xff
    return this
  }
  u32(v: number): this {
    checkUint(v, 0xffffffff)
    this.reserve(4)
    this.buf[this.len++] = v >>> 24
    this.buf[this.len++] = (v >>> 16) & 0xff
    this.buf[this.len++] = (v >>> 8) & 0xff
    this.buf[this.len++] = v & 0xff
    return this
  }
  u64(v: bigint): this {
    return this.u32(Number((v >> 32n) & 0xffffffffn)).u32(Number(v & 0xffffffffn))
  }
  bytes(b: Uint8Array): this {
    this.reserve(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
    return this
  }

  /** Writes a u8/u16/u24 length prefix for whatever `body` writes. */
  vec8(body: (w: this) => void): this {
    return this.prefixed(1, 0xff, body)
  }
  vec16(body: (w: this) => void): this {
    return this.prefixed(2, 0xffff, body)
  }
  vec24(body: (w: this) => void): this {
    return this.prefixed(3, 0xffffff, body)
  }
  private prefixed(size: number, max: number, body: (w: this) => void): this {
    this.reserve(size)
    const at = this.len
    this.len += size
    body(this)
    const n = this.len - at - size
    if (n > max) throw new WireError('bad-length', `vector of ${n} bytes exceeds ${max}`)
    for (let i = size - 1, v = n; i >= 0; i--, v >>= 8) this.buf[at + i] = v & 0xff
    return this
  }

  /** The bytes written so far (a copy, so the Writer can be reused). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}

function checkUint(v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new WireError('bad-value', `${v} is not an integer in 0..${max}`)
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '')
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new WireError('bad-value', 'invalid hex string')
  return new Uint8Array(Buffer.from(clean, 'hex'))
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

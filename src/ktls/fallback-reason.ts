// What a failed kTLS step means, in words a user can act on (notes §1.4). Built only from the errno
// a real setsockopt returned, never guessed.

import { errnoName } from './native.js'

export type KtlsStep = 'ulp' | 'tx' | 'rx'

export function fallbackReason(step: KtlsStep, errno: number): string {
  const name = errnoName(errno)
  if (step === 'ulp') {
    if (name === 'ENOENT') return 'ENOENT: the kernel has no tls ULP; try modprobe tls'
    if (name === 'ENOTCONN') return 'ENOTCONN: TCP_ULP set on a socket that is not connected'
    if (name === 'EEXIST') return 'EEXIST: the tls ULP was already set on this socket'
    return `${name}: setsockopt(TCP_ULP, "tls") failed`
  }
  const dir = step === 'tx' ? 'TLS_TX' : 'TLS_RX'
  if (name === 'ENOPROTOOPT') return `ENOPROTOOPT: SOL_TLS ${dir} refused (no tls ULP on the socket)`
  if (name === 'EINVAL' || name === 'ENOENT') return `${name}: the kernel does not support this cipher suite for ${dir}`
  if (name === 'EBUSY') return `EBUSY: ${dir} already set (the kernel cannot rekey)`
  return `${name}: setsockopt(SOL_TLS, ${dir}) failed`
}

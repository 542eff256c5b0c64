// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit
// big-endian words. IPv4 headers and TCP (over a pseudo-header) both use it.

/** Adds `data` to a running 32-bit sum of 16-bit words; an odd last byte is padded with zero. */
export function sumWords(data: Uint8Array, sum = 0): number {
  const n = data.length & ~1
  for (let i = 0; i < n; i += 2) sum += (data[i] << 8) | data[i + 1]
  if (data.length & 1) sum += data[data.length - 1] << 8
  // Fold early so very long inputs never leave the exact-integer range of a double.
  return (sum & 0xffff) + Math.floor(sum / 0x10000)
}

/** Folds a running sum to 16 bits and complements it. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000)
  return ~sum & 0xffff
}

export function internetChecksum(data: Uint8Array): number {
  return finishChecksum(sumWords(data))
}

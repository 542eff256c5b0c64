// GREASE (RFC 8701): reserved values clients sprinkle into hellos so servers keep tolerating
// unknown ones. Cipher suites, groups, versions, extension types and signature algorithms share the
// 16-bit pattern 0x?A?A with equal bytes; PSK key exchange modes use 0x0B + 0x1F*n.

/** True for the sixteen 16-bit GREASE values 0x0A0A, 0x1A1A, ... 0xFAFA. */
export function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff)
}

/** The sixteen 16-bit GREASE values (RFC 8701 §2). */
export const GREASE_VALUES: readonly number[] = Array.from({ length: 16 }, (_, i) => (i << 12) | 0x0a00 | (i << 4) | 0x0a)

/** GREASE values of PskKeyExchangeMode (RFC 8701 §2: 0x0B, 0x2A, 0x49, 0x68, 0x87, 0xA6, 0xC5, 0xE4). */
export function isGreasePskMode(mode: number): boolean {
  return mode >= 0x0b && mode <= 0xe4 && (mode - 0x0b) % 0x1f === 0
}

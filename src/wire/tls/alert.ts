// Alert (RFC 8446 §6, names as the RFC spells them).

import { Reader, WireError, within } from '../bytes.js'

export const AlertLevel = { warning: 1, fatal: 2 } as const

export const AlertDescription = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  decryption_failed_RESERVED: 21,
  record_overflow: 22,
  decompression_failure_RESERVED: 30,
  handshake_failure: 40,
  no_certificate_RESERVED: 41,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  export_restriction_RESERVED: 60,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  no_renegotiation_RESERVED: 100,
  missing_extension: 109,
  unsupported_extension: 110,
  certificate_unobtainable_RESERVED: 111,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  bad_certificate_hash_value_RESERVED: 114,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
} as const

export interface Alert {
  level: number
  description: number
}

const names = new Map<number, string>(Object.entries(AlertDescription).map(([k, v]) => [v, k]))

export function alertDescriptionName(description: number): string | undefined {
  return names.get(description)
}

/** Decodes one plaintext alert record fragment: exactly level and description. */
export function decodeAlert(fragment: Uint8Array): Alert {
  return within(new Reader(fragment, 'Alert'), (r) => {
    const level = r.u8()
    const description = r.u8()
    if (level !== AlertLevel.warning && level !== AlertLevel.fatal) throw new WireError('bad-value', `Alert: AlertLevel ${level}`)
    return { level, description }
  })
}

export function encodeAlert(a: Alert): Uint8Array {
  if (a.level !== AlertLevel.warning && a.level !== AlertLevel.fatal) throw new WireError('bad-value', `Alert: AlertLevel ${a.level}`)
  if (!Number.isInteger(a.description) || a.description < 0 || a.description > 255) throw new WireError('bad-value', 'Alert: description')
  return Uint8Array.of(a.level, a.description)
}

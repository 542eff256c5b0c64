import { describe, expect, it } from 'vitest'
import { fromHex } from '../bytes.js'
import { AlertDescription, AlertLevel, alertDescriptionName, decodeAlert, encodeAlert } from './alert.js'

describe('Alert', () => {
  it('decodes a fatal handshake_failure (RFC 8446 §6: level 2, description 40)', () => {
    expect(decodeAlert(fromHex('0228'))).toEqual({ level: AlertLevel.fatal, description: AlertDescription.handshake_failure })
    expect(alertDescriptionName(40)).toBe('handshake_failure')
    expect(alertDescriptionName(0)).toBe('close_notify')
    expect(alertDescriptionName(120)).toBe('no_application_protocol')
    expect(alertDescriptionName(200)).toBeUndefined()
    expect(encodeAlert({ level: 1, description: 0 })).toEqual(fromHex('0100'))
  })

  it('rejects anything but exactly two bytes with a known level', () => {
    expect(() => decodeAlert(fromHex('02'))).toThrowError(expect.objectContaining({ code: 'bad-length' }))
    expect(() => decodeAlert(fromHex('022800'))).toThrowError(expect.objectContaining({ code: 'trailing' }))
    expect(() => decodeAlert(fromHex('0328'))).toThrowError(expect.objectContaining({ code: 'bad-value' }))
    expect(() => encodeAlert({ level: 3, description: 0 })).toThrowError(expect.objectContaining({ code: 'bad-value' }))
  })
})

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { WireError } from '../wire/bytes.js'
import { certChainPinFromPem } from './cert-pin.js'
import { clientConfigFromArgs } from './client-config.js'

describe('WebTunnel client configuration from bridge arguments', () => {
  it('reads url= the way lyrebird does: dial host:port, SNI and Host = host name, path kept', () => {
    expect(clientConfigFromArgs([['url', 'https://example.com/a%20b'], ['ver', '0.0.1']])).toEqual({
      tls: true, dialHost: 'example.com', dialPort: 443, httpHost: 'example.com', path: '/a%20b', serverName: 'example.com', verifyName: 'example.com', certChainPin: undefined,
    })
    const c = clientConfigFromArgs([['url', 'http://[2001:db8::5]:8080/p'], ['servername', 'front.example'], ['addr', '127.0.0.1:9']])
    expect([c.tls, c.dialHost, c.dialPort, c.httpHost, c.serverName]).toEqual([false, '127.0.0.1', 9, '2001:db8::5', 'front.example'])
  })

  it.each([[[]], [[['url', 'ftp://h/']]], [[['url', 'not a url']]], [[['url', 'https://h/'], ['cert', 'abc']]], [[['url', 'https://h/'], ['addr', 'h']]]] as [string, string][][][])(
    'refuses %j',
    (args) => expect(() => clientConfigFromArgs(args)).toThrow(WireError),
  )

  // Expected values from OpenSSL over the committed lab fixtures:
  //   openssl x509 -in server.crt -outform der | openssl dgst -sha256 -binary | base64
  //   (that digest; the same for lab-ca.crt) | openssl dgst -sha256 -binary | base64
  it('computes lyrebird cert= pins over a chain', () => {
    const leaf = readFileSync(new URL('../../lab/fixtures/server.crt', import.meta.url), 'utf8')
    const ca = readFileSync(new URL('../../lab/fixtures/lab-ca.crt', import.meta.url), 'utf8')
    expect(certChainPinFromPem(leaf)).toBe('qiFMJYDEZIBj4rVBBIt9kvXSjg6e7H2DRUv4wV3ve2s=')
    expect(certChainPinFromPem(leaf + ca)).toBe('pwBb3HHUoV1qLHlKDAdxSJ2w4A1NZrjgYWn9PuR2Tqw=')
    expect(clientConfigFromArgs([['url', 'https://h/'], ['cert', 'qiFMJYDEZIBj4rVBBIt9kvXSjg6e7H2DRUv4wV3ve2s=']]).certChainPin).toEqual(new Uint8Array(Buffer.from('qiFMJYDEZIBj4rVBBIt9kvXSjg6e7H2DRUv4wV3ve2s=', 'base64')))
  })
})

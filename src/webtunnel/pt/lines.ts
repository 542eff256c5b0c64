// The lines a PT writes on stdout for tor (pt-spec.txt §3.3). One function per keyword so a
// reader can find each by its spec name.

import { encodeSmethodArgs, type PtArgs } from './args.js'

const addr = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)

export const VERSION = (v = '1') => `VERSION ${v}`
export const CMETHOD = (transport: string, host: string, port: number) => `CMETHOD ${transport} socks5 ${addr(host, port)}`
export const CMETHOD_ERROR = (transport: string, message: string) => `CMETHOD-ERROR ${transport} ${oneLine(message)}`
export const CMETHODS_DONE = () => 'CMETHODS DONE'
export const SMETHOD = (transport: string, host: string, port: number, args: PtArgs) =>
  `SMETHOD ${transport} ${addr(host, port)}${args.length ? ` ARGS:${encodeSmethodArgs(args)}` : ''}`
export const SMETHOD_ERROR = (transport: string, message: string) => `SMETHOD-ERROR ${transport} ${oneLine(message)}`
export const SMETHODS_DONE = () => 'SMETHODS DONE'
export const PROXY_ERROR = (message: string) => `PROXY-ERROR ${oneLine(message)}`

/** LOG SEVERITY=… MESSAGE="…" (pt-spec §3.3.4: MESSAGE is a C-style quoted string). */
export function LOG(severity: 'error' | 'warning' | 'notice' | 'info' | 'debug', message: string): string {
  const quoted = message.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r')
  return `LOG SEVERITY=${severity} MESSAGE="${quoted}"`
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ')
}

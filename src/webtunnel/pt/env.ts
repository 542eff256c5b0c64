// The managed-proxy environment tor sets for a PT (pt-spec.txt §3.2), parsed into what a client
// or server transport needs. Problems come back as the exact stdout line the spec prescribes
// (VERSION-ERROR / ENV-ERROR) so the driver can print it and exit.

import { WireError } from '../../wire/bytes.js'
import { decodeServerTransportOptions, type PtArgs } from './args.js'

export type Env = Record<string, string | undefined>

export class PtEnvError extends Error {
  override readonly name = 'PtEnvError'
  /** The line to print on stdout before exiting, e.g. "VERSION-ERROR no-version". */
  constructor(readonly line: string) {
    super(line)
  }
}

export interface PtCommonEnv {
  stateLocation: string | undefined
  exitOnStdinClose: boolean
}

export interface PtClientEnv extends PtCommonEnv {
  /** Requested transports; "*" (pt-spec's old "all") is kept as is. */
  transports: string[]
  proxy: string | undefined
}

export interface PtServerEnv extends PtCommonEnv {
  transports: string[]
  /** name → host:port from TOR_PT_SERVER_BINDADDR. */
  bindaddrs: Map<string, { host: string; port: number }>
  orport: { host: string; port: number } | undefined
  extendedServerPort: { host: string; port: number } | undefined
  authCookieFile: string | undefined
  /** Raw TOR_PT_SERVER_TRANSPORT_OPTIONS; serverTransportOptions() splits it per transport. */
  transportOptions: string
}

function common(env: Env): PtCommonEnv {
  const versions = (env.TOR_PT_MANAGED_TRANSPORT_VER ?? '').split(',')
  if (!versions.includes('1')) throw new PtEnvError('VERSION-ERROR no-version')
  return { stateLocation: env.TOR_PT_STATE_LOCATION, exitOnStdinClose: env.TOR_PT_EXIT_ON_STDIN_CLOSE === '1' }
}

function list(env: Env, name: string): string[] {
  const v = env[name]
  if (v === undefined || v === '') throw new PtEnvError(`ENV-ERROR no ${name} environment variable`)
  return v.split(',')
}

/** host:port or [v6]:port; port 0 allowed for bind addresses. */
export function parseAddrPort(text: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]]+)):([0-9]{1,5})$/.exec(text)
  if (!m || Number(m[3]) > 65535) throw new PtEnvError(`ENV-ERROR cannot parse ${what} ${JSON.stringify(text)}`)
  return { host: m[1] ?? m[2], port: Number(m[3]) }
}

export function parseClientEnv(env: Env): PtClientEnv {
  const c = common(env)
  return { ...c, transports: list(env, 'TOR_PT_CLIENT_TRANSPORTS'), proxy: env.TOR_PT_PROXY || undefined }
}

export function parseServerEnv(env: Env): PtServerEnv {
  const c = common(env)
  const transports = list(env, 'TOR_PT_SERVER_TRANSPORTS')
  const bindaddrs = new Map<string, { host: string; port: number }>()
  for (const entry of (env.TOR_PT_SERVER_BINDADDR ?? '').split(',').filter((e) => e !== '')) {
    const dash = entry.indexOf('-')
    if (dash <= 0) throw new PtEnvError(`ENV-ERROR cannot parse TOR_PT_SERVER_BINDADDR entry ${JSON.stringify(entry)}`)
    bindaddrs.set(entry.slice(0, dash), parseAddrPort(entry.slice(dash + 1), 'TOR_PT_SERVER_BINDADDR'))
  }
  const orport = env.TOR_PT_ORPORT ? parseAddrPort(env.TOR_PT_ORPORT, 'TOR_PT_ORPORT') : undefined
  const extendedServerPort = env.TOR_PT_EXTENDED_SERVER_PORT ? parseAddrPort(env.TOR_PT_EXTENDED_SERVER_PORT, 'TOR_PT_EXTENDED_SERVER_PORT') : undefined
  const authCookieFile = env.TOR_PT_AUTH_COOKIE_FILE || undefined
  if (extendedServerPort && !authCookieFile) throw new PtEnvError('ENV-ERROR need TOR_PT_AUTH_COOKIE_FILE environment variable with TOR_PT_EXTENDED_SERVER_PORT')
  if (!orport && !extendedServerPort) throw new PtEnvError('ENV-ERROR no TOR_PT_ORPORT environment variable')
  return { ...c, transports, bindaddrs, orport, extendedServerPort, authCookieFile, transportOptions: env.TOR_PT_SERVER_TRANSPORT_OPTIONS ?? '' }
}

/** The options for one transport, or an SMETHOD-ERROR line when they do not parse. */
export function serverTransportOptions(env: PtServerEnv, transport: string): PtArgs {
  try {
    return decodeServerTransportOptions(env.transportOptions, transport)
  } catch (e) {
    if (e instanceof WireError) throw new PtEnvError(`SMETHOD-ERROR ${transport} ${e.message}`)
    throw e
  }
}

export function wants(transports: string[], name: string): boolean {
  return transports.includes(name) || transports.includes('*')
}

// SOCKS4/4a/5 codecs and the server-side handshake engine.
export * from './address.js'
export * from './greeting.js'
export * from './userpass.js'
export * from './request.js'
export * from './reply.js'
export * from './socks4.js'
export * from './server-handshake.js'

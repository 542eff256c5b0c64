// HTTP/1.1 message heads: parse and encode under limits, plus CONNECT and Upgrade helpers.
export * from './limits.js'
export * from './fields.js'
export * from './authority.js'
export * from './request-target.js'
export * from './request-head.js'
export * from './response-head.js'
export * from './upgrade.js'
export * from './connect.js'

// Constants of the Linux kTLS interface. Source: include/uapi/linux/tls.h and glibc bits/socket.h,
// as tabulated in /work/shared/notes/ktls.md §1.1. The C addon re-checks these against the header.

export const SOL_TCP = 6
export const TCP_ULP = 31
export const SOL_TLS = 282
export const TLS_TX = 1
export const TLS_RX = 2

export const TLS_1_2_VERSION = 0x0303
export const TLS_1_3_VERSION = 0x0304
export type TlsVersion = typeof TLS_1_2_VERSION | typeof TLS_1_3_VERSION

export const TLS_CIPHER_AES_GCM_128 = 51
export const TLS_CIPHER_AES_GCM_256 = 52
export const TLS_CIPHER_CHACHA20_POLY1305 = 54
export type KtlsCipherType =
  | typeof TLS_CIPHER_AES_GCM_128
  | typeof TLS_CIPHER_AES_GCM_256
  | typeof TLS_CIPHER_CHACHA20_POLY1305

/** cmsg types on SOL_TLS: set the type of a record we send, read the type of one we received. */
export const TLS_SET_RECORD_TYPE = 1
export const TLS_GET_RECORD_TYPE = 2

/** TLS ContentType values (RFC 8446 §5.1) as they appear in the record-type cmsg. */
export const ContentType = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 } as const

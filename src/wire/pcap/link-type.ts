// LINKTYPE_* values (tcpdump.org/linktypes.html) for the link layers this lab reads and writes.
export const LinkType = {
  NULL: 0, // BSD loopback: 4-byte address family in host byte order
  ETHERNET: 1,
  RAW_12: 12, // DLT_RAW on some BSDs (OpenBSD uses 14): raw IPv4/IPv6
  RAW_14: 14,
  RAW: 101, // LINKTYPE_RAW: raw IPv4/IPv6, version nibble tells which
  LINUX_SLL: 113,
  LINUX_SLL2: 276,
} as const

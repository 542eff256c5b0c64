// Assigned Internet Protocol Numbers (IANA protocol-numbers registry) that this lab meets.
export const IpProtocol = {
  HOPOPT: 0, // IPv6 Hop-by-Hop Options
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  IPv6_Route: 43,
  IPv6_Frag: 44,
  ICMPv6: 58,
  IPv6_NoNxt: 59,
  IPv6_Opts: 60, // Destination Options
} as const

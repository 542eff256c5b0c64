// What every capture reader yields per packet, whatever the file format.

export interface Timestamp {
  sec: number
  nsec: number // 0..999_999_999 when the file is sane; kept as read otherwise
}

export interface CapturedPacket {
  ts: Timestamp
  linkType: number // LINKTYPE_* of the interface the packet came from
  data: Uint8Array // the captured bytes (caplen of them); a view into the file
  origLength: number // the packet's length on the wire (≥ data.length unless the file lies)
  interfaceId?: number // pcapng: index of the IDB within its section
}

/** A reader's result: the packets that were good, plus the error that stopped it, if any. */
export interface CaptureResult<T> {
  packets: CapturedPacket[]
  error?: import('../bytes.js').WireError
  header: T
}

// Why decodeMh refused a message. The strings are stable: the socket loop uses them as
// counter labels, so renaming one is a metrics change.
export const MH_DECODE_REASONS = [
  /** Fewer than the 8 octets of the smallest MH. */
  'too-short',
  /** Header Len announces more octets than were received. */
  'truncated',
  /** More octets than Header Len announces (the MH must be the last header: Payload Proto 59). */
  'trailing-data',
  /** Payload Proto is not 59 (RFC 6275 §9.2). */
  'bad-payload-proto',
  /** The checksum over the pseudo-header + MH does not verify (only when asked to verify). */
  'bad-checksum',
  /** Header Len is below the minimum of that MH Type (RFC 6275 §9.2). */
  'too-short-for-type',
  /** A mobility option's header or data runs past the end of the message. */
  'option-truncated',
  /** A known mobility option has the wrong Length (e.g. a Nonce whose Length is not 8). */
  'bad-option-length',
  /** A known mobility option is not at its alignment (e.g. AltCoA not at 8n+6). */
  'misaligned-option',
  /** An AOTC or AOTR without the mandatory Nonce option (IRO §4.4.2). */
  'missing-nonce',
  /** An AOTC or AOTR with more than one Nonce option: which one is the proof would be ambiguous. */
  'duplicate-nonce',
  /** A bug in this decoder (it never happens on purpose; tests assert it does not). */
  'internal-error',
] as const;

export type MhDecodeReason = (typeof MH_DECODE_REASONS)[number];

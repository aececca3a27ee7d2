// BU sequence numbers are 16-bit and compared modulo 2^16 (RFC 6275 §9.5.1): `a` is newer than
// `b` when it lies less than half the number space ahead of it. The exact half-way point is
// ambiguous and counts as not newer, so a peer cannot make both orders look valid.

export const SEQUENCE_MODULUS = 0x10000;

export function seqNext(seq: number): number {
  return (seq + 1) & 0xffff;
}

/** True when `a` is strictly greater than `b` in the modulo-2^16 order. */
export function seqGreater(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}

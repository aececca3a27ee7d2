// The Internet checksum (RFC 1071) and the IPv6 upper-layer pseudo-header (RFC 8200 §8.1).
// Shared by the MH codec, ICMPv6 and the test packet builders, so there is one implementation
// of the one's-complement arithmetic to get right.

/**
 * One's-complement accumulator over 16-bit big-endian words that may be fed in chunks of any
 * length: an odd-length chunk leaves a pending high byte that the next chunk completes, so
 * splitting the data anywhere gives the same sum as summing it whole.
 */
export class OnesComplementSum {
  private sum = 0;
  private pendingHigh: number | null = null;

  add(data: Uint8Array): this {
    let i = 0;
    const n = data.length;
    if (this.pendingHigh !== null && n > 0) {
      this.sum += (this.pendingHigh << 8) | data[0]!;
      this.pendingHigh = null;
      i = 1;
    }
    for (; i + 1 < n; i += 2) this.sum += (data[i]! << 8) | data[i + 1]!;
    if (i < n) this.pendingHigh = data[i]!;
    // A double holds integers exactly up to 2^53; folding now and then keeps far below that.
    if (this.sum > 0x3fffffff) this.sum = foldOnesComplement(this.sum);
    return this;
  }

  /** Add a 16-bit value (e.g. a length or next-header word of a pseudo-header). */
  addWord(word: number): this {
    if (this.pendingHigh !== null) throw new Error('OnesComplementSum.addWord: called at an odd byte offset');
    this.sum += word & 0xffff;
    return this;
  }

  /** The folded 16-bit one's-complement sum (a trailing odd byte is padded with zero). */
  folded(): number {
    const tail = this.pendingHigh !== null ? this.pendingHigh << 8 : 0;
    return foldOnesComplement(this.sum + tail);
  }

  /** The checksum to put on the wire: the complement of the folded sum. */
  checksum(): number {
    return ~this.folded() & 0xffff;
  }
}

/** Fold carries back into the low 16 bits until none are left. */
export function foldOnesComplement(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** RFC 1071 checksum of the concatenation of `chunks`. */
export function internetChecksum(...chunks: Uint8Array[]): number {
  const acc = new OnesComplementSum();
  for (const c of chunks) acc.add(c);
  return acc.checksum();
}

function checkAddress(name: string, a: Uint8Array): void {
  if (a.length !== 16) throw new Error(`IPv6 pseudo-header: ${name} address must be 16 bytes, got ${a.length}`);
}

/** Accumulator pre-loaded with the IPv6 pseudo-header (src, dst, upper-layer length, next header). */
export function ipv6PseudoHeaderSum(
  src: Uint8Array,
  dst: Uint8Array,
  upperLayerLength: number,
  nextHeader: number,
): OnesComplementSum {
  checkAddress('source', src);
  checkAddress('destination', dst);
  if (!Number.isInteger(upperLayerLength) || upperLayerLength < 0 || upperLayerLength > 0xffffffff) {
    throw new Error(`IPv6 pseudo-header: upper-layer length ${upperLayerLength} is not a 32-bit unsigned integer`);
  }
  const acc = new OnesComplementSum().add(src).add(dst);
  acc.addWord(Math.floor(upperLayerLength / 0x10000)).addWord(upperLayerLength & 0xffff);
  // The 24 zero bits before Next Header add nothing.
  return acc.addWord(nextHeader & 0xff);
}

/**
 * Checksum of an IPv6 upper-layer payload (ICMPv6, MH, UDP...). The payload's own checksum field
 * must be zero when computing; when verifying a received payload, use ipv6UpperLayerChecksumOk.
 */
export function ipv6UpperLayerChecksum(src: Uint8Array, dst: Uint8Array, nextHeader: number, payload: Uint8Array): number {
  return ipv6PseudoHeaderSum(src, dst, payload.length, nextHeader).add(payload).checksum();
}

/** True when a received payload (checksum field in place) sums to all ones with its pseudo-header. */
export function ipv6UpperLayerChecksumOk(src: Uint8Array, dst: Uint8Array, nextHeader: number, payload: Uint8Array): boolean {
  return ipv6PseudoHeaderSum(src, dst, payload.length, nextHeader).add(payload).folded() === 0xffff;
}

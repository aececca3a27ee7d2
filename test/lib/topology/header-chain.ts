// Where the headers of a captured IPv6 packet end: a walk over the next-header chain of the
// bytes tcpdump printed (-x), so a test can ask "does address X appear in any IPv6 header or
// extension header" without trusting our own packet code. Inner IPv6 headers of IPv6-in-IPv6
// are headers on the wire too, so the walk goes into them. ESP's SPI/sequence are included;
// its encrypted payload is not.
import { parseIPv6 } from '../../../src/common/ipv6.ts';

export const NH = {
  HOPOPTS: 0,
  IPV4: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  MH: 135,
} as const;

const NAMES: Record<number, string> = {
  0: 'HBH', 4: 'IPv4', 6: 'TCP', 17: 'UDP', 41: 'IPv6', 43: 'Routing', 44: 'Fragment', 50: 'ESP',
  51: 'AH', 58: 'ICMPv6', 59: 'NoNext', 60: 'DSTOPT', 135: 'MH',
};

export function protocolName(nh: number): string {
  return NAMES[nh] ?? `proto-${nh}`;
}

export interface HeaderChain {
  /** next-header values in order, starting with the outer IPv6 header's */
  chain: number[];
  /** bytes from the start that are IPv6 headers or extension headers (incl. ESP's SPI+seq) */
  headersLength: number;
  /** the chain ran past the captured bytes */
  truncated: boolean;
}

export function walkHeaders(raw: Uint8Array): HeaderChain {
  const chain: number[] = [];
  if (raw.length < 40 || raw[0]! >> 4 !== 6) return { chain, headersLength: 0, truncated: raw.length < 40 };
  let off = 0;
  let nh = -1;
  const ipv6At = (at: number): boolean => {
    if (at + 40 > raw.length) return false;
    nh = raw[at + 6]!;
    chain.push(nh);
    off = at + 40;
    return true;
  };
  ipv6At(0);
  for (;;) {
    switch (nh) {
      case NH.HOPOPTS:
      case NH.ROUTING:
      case NH.DSTOPTS:
      case NH.MH: {
        if (off + 2 > raw.length) return { chain, headersLength: raw.length, truncated: true };
        const len = (raw[off + 1]! + 1) * 8;
        const next = raw[off]!;
        if (off + len > raw.length) return { chain, headersLength: raw.length, truncated: true };
        off += len;
        if (nh === NH.MH) return { chain, headersLength: off, truncated: false };
        nh = next;
        chain.push(nh);
        break;
      }
      case NH.FRAGMENT: {
        if (off + 8 > raw.length) return { chain, headersLength: raw.length, truncated: true };
        const next = raw[off]!;
        const fragOffset = ((raw[off + 2]! << 8) | raw[off + 3]!) >> 3;
        off += 8;
        if (fragOffset !== 0) return { chain, headersLength: off, truncated: false };
        nh = next;
        chain.push(nh);
        break;
      }
      case NH.AH: {
        if (off + 2 > raw.length) return { chain, headersLength: raw.length, truncated: true };
        const len = (raw[off + 1]! + 2) * 4;
        const next = raw[off]!;
        if (off + len > raw.length) return { chain, headersLength: raw.length, truncated: true };
        off += len;
        nh = next;
        chain.push(nh);
        break;
      }
      case NH.ESP:
        if (off + 8 > raw.length) return { chain, headersLength: raw.length, truncated: true };
        return { chain, headersLength: off + 8, truncated: false };
      case NH.IPV6:
        if (!ipv6At(off)) return { chain, headersLength: raw.length, truncated: true };
        break;
      default:
        return { chain, headersLength: off, truncated: false };
    }
  }
}

export function addressBytes(addr: string | Uint8Array): Buffer {
  return typeof addr === 'string' ? parseIPv6(addr) : Buffer.from(addr);
}

/** Every offset at which `needle` occurs in `hay[0, end)`. */
export function findAll(hay: Uint8Array, needle: Uint8Array, end = hay.length): number[] {
  const out: number[] = [];
  const h = Buffer.from(hay.buffer, hay.byteOffset, Math.min(end, hay.length));
  for (let i = h.indexOf(needle); i >= 0; i = h.indexOf(needle, i + 1)) out.push(i);
  return out;
}

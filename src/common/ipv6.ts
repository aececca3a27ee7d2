// IPv6 addresses as 16-byte Buffers, with RFC 4291 parsing and RFC 5952 canonical printing.
// The data path and every kernel codec use the byte form; text is only for config and output.
import { isIPv6 } from 'node:net';

export const IN6ADDR_ANY = Buffer.alloc(16);

/** Parse textual IPv6 (incl. "::", embedded IPv4, zone-less) into 16 bytes; throws with the input. */
export function parseIPv6(text: string): Buffer {
  const s = text.trim();
  if (!isIPv6(s) || s.includes('%')) throw new Error(`not an IPv6 address: "${text}"`);
  const out = Buffer.alloc(16);
  let head = s;
  let tail = '';
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    head = s.slice(0, dbl);
    tail = s.slice(dbl + 2);
  }
  const toWords = (part: string): number[] => {
    if (part === '') return [];
    const words: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const o = g.split('.').map(Number);
        words.push(((o[0]! << 8) | o[1]!) >>> 0, ((o[2]! << 8) | o[3]!) >>> 0);
      } else {
        words.push(parseInt(g, 16));
      }
    }
    return words;
  };
  const hw = toWords(head);
  const tw = toWords(tail);
  hw.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  tw.forEach((w, i) => out.writeUInt16BE(w, 16 - (tw.length - i) * 2));
  return out;
}

/** RFC 5952 canonical text: lower case, longest zero run (>1 word) compressed, first wins. */
export function formatIPv6(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new Error(`an IPv6 address is 16 bytes, got ${bytes.length}`);
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

export function isUnspecified(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

export function ipv6Equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** Normalise any accepted textual form to canonical text. */
export function canonicalIPv6(text: string): string {
  return formatIPv6(parseIPv6(text));
}

/** fc00::/7 unique local addresses (RFC 4193). */
export function isUniqueLocal(bytes: Uint8Array): boolean {
  return (bytes[0]! & 0xfe) === 0xfc;
}

/** fe80::/10 link-local. */
export function isLinkLocal(bytes: Uint8Array): boolean {
  return bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80;
}

export function isMulticast(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff;
}

// IPv6 addresses as 16-byte Buffers, with RFC 4291 parsing and RFC 5952 canonical printing.
// The data path and every kernel codec use the byte form; text is only for config and output.

export const IN6ADDR_ANY = Buffer.alloc(16);

/** Parse textual IPv6 (incl. "::" and embedded IPv4; no zone) into 16 bytes; throws with the input. */
export function parseIPv6(text: string): Buffer {
  const out = Buffer.allocUnsafe(16);
  parseIPv6Into(text, out, 0);
  return out;
}

/** Parse straight into `out` at `off` (no allocation: this runs for every rule and address). */
export function parseIPv6Into(text: string, out: Uint8Array, off: number): void {
  if (fastParse(text, out, off)) return;
  const s = text.trim();
  if (s !== text && fastParse(s, out, off)) return;
  throw new Error(`not an IPv6 address: "${text}"`);
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const V4_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const scratch = new Uint16Array(8);

/** One pass over the characters into `scratch`, then into out. False if not IPv6. */
function fastParse(s: string, out: Uint8Array, off: number): boolean {
  const n = s.length;
  if (n < 2 || n > 45) return false;
  let count = 0;
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    let v = 0;
    let digits = 0;
    const start = i;
    while (i < n && digits < 5) {
      const h = hexVal(s.charCodeAt(i));
      if (h < 0) break;
      v = (v << 4) | h;
      digits++;
      i++;
    }
    if (i < n && s.charCodeAt(i) === 46) {
      // embedded IPv4 in the last 32 bits
      const v4 = s.slice(start).split('.');
      if (v4.length !== 4 || count > 6) return false;
      const o: number[] = [];
      for (const x of v4) {
        if (!V4_OCTET.test(x)) return false;
        o.push(Number(x));
      }
      scratch[count++] = (o[0]! << 8) | o[1]!;
      scratch[count++] = (o[2]! << 8) | o[3]!;
      i = n;
      break;
    }
    if (digits === 0 || digits > 4 || count === 8) return false;
    scratch[count++] = v;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === n) return false;
  }
  if (count > 8 || (gap < 0 && count !== 8) || (gap >= 0 && count > 7)) return false;
  const head = gap < 0 ? 8 : gap;
  for (let k = 0; k < head; k++) {
    out[off + 2 * k] = scratch[k]! >> 8;
    out[off + 2 * k + 1] = scratch[k]! & 0xff;
  }
  if (gap >= 0) {
    const tail = count - gap;
    for (let k = 2 * gap; k < 16 - 2 * tail; k++) out[off + k] = 0;
    for (let k = 0; k < tail; k++) {
      const w = scratch[gap + k]!;
      const at = off + 16 - (tail - k) * 2;
      out[at] = w >> 8;
      out[at + 1] = w & 0xff;
    }
  }
  return true;
}

/** RFC 5952 canonical text: lower case, longest zero run (>1 word) compressed, first wins. */
export function formatIPv6(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new Error(`an IPv6 address is 16 bytes, got ${bytes.length}`);
  // (no arrays or closures: this runs several times for every mobility message an HA handles)
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (bytes[2 * i] !== 0 || bytes[2 * i + 1] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && bytes[2 * j] === 0 && bytes[2 * j + 1] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out.length && !out.endsWith(':')) out += ':';
    out += ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16);
  }
  return out;
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
  parseIPv6Into(text, canonicalScratch, 0);
  return formatIPv6(canonicalScratch);
}

const canonicalScratch = Buffer.alloc(16);

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

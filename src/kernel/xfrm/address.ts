// xfrm_address_t (16 bytes; IPv4 uses the first 4) <-> text, by address family.
import { parseIPv6 } from '../../common/ipv6.ts';
import { AF_INET, AF_INET6 } from '../constants.ts';
import { isIPv4, isIPv6 } from 'node:net';

export function familyOf(text: string): number {
  return isIPv4(text) ? AF_INET : AF_INET6;
}

function isAny(text: string | undefined): boolean {
  return text === undefined || text === '' || text === '::' || text === '0.0.0.0';
}

/** Write `text` as an xfrm_address_t of `family` at buf[off]; the 16 bytes must be zero already. */
export function writeXfrmAddress(buf: Buffer, off: number, text: string | undefined, family: number, what: string): void {
  if (isAny(text)) return;
  const t = text!;
  if (family === AF_INET || (family === 0 && isIPv4(t))) {
    if (!isIPv4(t)) throw new Error(`${what}: "${t}" is not an IPv4 address (family AF_INET)`);
    const parts = t.split('.');
    for (let i = 0; i < 4; i++) buf[off + i] = Number(parts[i]);
    return;
  }
  if (family !== AF_INET6 && family !== 0) throw new Error(`${what}: unsupported address family ${family}`);
  if (!writeIPv6Fast(buf, off, t)) throw new Error(`${what}: "${t}" is not an IPv6 address (family AF_INET6)`);
}

/** hex digit value of a char code, -1 when not [0-9a-fA-F] */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

const words = new Uint16Array(8);

/**
 * Parse plain hex IPv6 text (groups of 1-4 hex digits, at most one "::") into
 * buf[off..off+16]; false when the text is not such an address. Embedded IPv4 goes through
 * the general parser. One pass over the characters, nothing allocated: this runs for every
 * address of every request we encode.
 */
function writeIPv6Fast(buf: Buffer, off: number, t: string): boolean {
  if (t.includes('.')) {
    if (!isIPv6(t)) return false;
    parseIPv6(t).copy(buf, off);
    return true;
  }
  const n = t.length;
  let groups = 0;
  let gap = -1; // group index where "::" stands
  let i = 0;
  if (n >= 2 && t.charCodeAt(0) === 58 && t.charCodeAt(1) === 58) {
    gap = 0;
    i = 2;
  }
  while (i < n) {
    let v = 0;
    let digits = 0;
    for (; i < n; i++) {
      const h = hexValue(t.charCodeAt(i));
      if (h < 0) break;
      if (++digits > 4) return false;
      v = (v << 4) | h;
    }
    if (digits === 0 || groups === 8) return false;
    words[groups++] = v;
    if (i === n) break;
    if (t.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && t.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = groups;
      i++;
    } else if (i === n) return false;
  }
  if (gap < 0 ? groups !== 8 : groups > 7) return false;
  // the groups after "::" go to the end; the ones in between are zero
  const tail = gap < 0 ? 0 : groups - gap;
  for (let g = 0; g < 8; g++) {
    let w = 0;
    if (gap < 0 || g < gap) w = words[g]!;
    else if (g >= 8 - tail) w = words[gap + g - (8 - tail)]!;
    buf[off + 2 * g] = w >>> 8;
    buf[off + 2 * g + 1] = w & 0xff;
  }
  return true;
}

/** Read an xfrm_address_t; family 0 (unspecified) reads as IPv6 ("::" when all zero). */
export function readXfrmAddress(buf: Buffer, off: number, family: number): string {
  if (family === AF_INET) return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
  return readIPv6Cached(buf, off);
}

/**
 * RFC 5952 text (same output as common/ipv6.ts formatIPv6), written without closures or
 * arrays: SA dumps format four addresses per SA and this is the decoder's hot path.
 */
const HEX2: string[] = [];
const HEXNZ: string[] = [];
for (let i = 0; i < 256; i++) {
  HEX2.push(i.toString(16).padStart(2, '0'));
  HEXNZ.push(i.toString(16));
}

export function formatIPv6Fast(buf: Buffer, off: number): string {
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if (buf[off + 2 * i] === 0 && buf[off + 2 * i + 1] === 0) {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) {
        bestStart = runStart;
        bestLen = i - runStart + 1;
      }
    } else runStart = -1;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    const hi = buf[off + 2 * i]!;
    const lo = buf[off + 2 * i + 1]!;
    out += hi ? HEXNZ[hi]! + HEX2[lo]! : HEXNZ[lo]!;
    if (i < 7) out += ':';
  }
  return out;
}

// A small direct-mapped cache of formatted IPv6 addresses: an SA message carries the same two
// addresses twice (id/saddr and the selector), and a dump repeats the local address in every
// SA. A hit costs four word compares instead of formatting.
const CACHE_SLOTS = 256;
const cacheWords = new Uint32Array(CACHE_SLOTS * 4);
const cacheText: string[] = new Array<string>(CACHE_SLOTS).fill('');

function readIPv6Cached(buf: Buffer, off: number): string {
  // callers checked the length; a short buffer still fails the way Buffer reads fail
  if (off < 0 || off + 16 > buf.length) buf.readUInt32LE(Math.max(off, buf.length));
  const w0 = (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
  const w1 = (buf[off + 4]! | (buf[off + 5]! << 8) | (buf[off + 6]! << 16) | (buf[off + 7]! << 24)) >>> 0;
  const w2 = (buf[off + 8]! | (buf[off + 9]! << 8) | (buf[off + 10]! << 16) | (buf[off + 11]! << 24)) >>> 0;
  const w3 = (buf[off + 12]! | (buf[off + 13]! << 8) | (buf[off + 14]! << 16) | (buf[off + 15]! << 24)) >>> 0;
  if ((w0 | w1 | w2 | w3) === 0) return '::';
  const h = (w3 ^ (w3 >>> 13) ^ (w2 >>> 7) ^ w1 ^ (w0 >>> 3)) & (CACHE_SLOTS - 1);
  const i = h << 2;
  if (cacheWords[i] === w0 && cacheWords[i + 1] === w1 && cacheWords[i + 2] === w2 && cacheWords[i + 3] === w3 && cacheText[h] !== '') return cacheText[h]!;
  const s = formatIPv6Fast(buf, off);
  cacheWords[i] = w0;
  cacheWords[i + 1] = w1;
  cacheWords[i + 2] = w2;
  cacheWords[i + 3] = w3;
  cacheText[h] = s;
  return s;
}

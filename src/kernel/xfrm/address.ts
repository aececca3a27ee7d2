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

/**
 * Parse plain hex IPv6 text (the forms formatIPv6 prints, plus any "::" placement) into
 * buf[off..off+16]; false when the text is not such an address. Embedded IPv4 goes through
 * the general parser. No closures: this runs once per address of every request we encode.
 */
function writeIPv6Fast(buf: Buffer, off: number, t: string): boolean {
  if (t.includes('.')) {
    if (!isIPv6(t)) return false;
    parseIPv6(t).copy(buf, off);
    return true;
  }
  const dbl = t.indexOf('::');
  if (dbl !== t.lastIndexOf('::')) return false;
  const head = dbl < 0 ? t : t.slice(0, dbl);
  const tail = dbl < 0 ? '' : t.slice(dbl + 2);
  const hw = head === '' ? [] : head.split(':');
  const tw = tail === '' ? [] : tail.split(':');
  if (dbl < 0 ? hw.length !== 8 : hw.length + tw.length > 7) return false;
  const words: number[] = new Array(8).fill(0);
  for (let i = 0; i < hw.length; i++) {
    const g = hw[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
    words[i] = parseInt(g, 16);
  }
  for (let i = 0; i < tw.length; i++) {
    const g = tw[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
    words[8 - tw.length + i] = parseInt(g, 16);
  }
  for (let i = 0; i < 8; i++) buf.writeUInt16BE(words[i]!, off + 2 * i);
  return true;
}

/** Read an xfrm_address_t; family 0 (unspecified) reads as IPv6 ("::" when all zero). */
export function readXfrmAddress(buf: Buffer, off: number, family: number): string {
  if (family === AF_INET) return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
  // Fast path: the unspecified address is the common case in selectors and templates.
  if (buf.readUInt32LE(off) === 0 && buf.readUInt32LE(off + 4) === 0 && buf.readUInt32LE(off + 8) === 0 && buf.readUInt32LE(off + 12) === 0) {
    return '::';
  }
  return formatIPv6Fast(buf, off);
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

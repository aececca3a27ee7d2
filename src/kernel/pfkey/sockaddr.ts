// sockaddr_in / sockaddr_in6 inside PF_KEY extensions (host-order family, network-order port
// and flowinfo, host-order scope id), for both directions.
import { isIPv4, isIPv6 } from 'node:net';
import { AF_INET as AF_INET_IMPORTED, AF_INET6 as AF_INET6_IMPORTED } from '../constants.ts';
import { formatIPv6, parseIPv6 } from '../../common/ipv6.ts';
import { PfkeyDecodeError, PfkeyError } from './errors.ts';
import { SIZEOF } from './constants.ts';
import type { AddressFamily, PfkeySockaddr } from './types.ts';

// Local copies of imported values: the decoder calls in here for every address of every message.
const AF_INET = AF_INET_IMPORTED;
const AF_INET6 = AF_INET6_IMPORTED;
const SOCKADDR_IN = SIZEOF.sockaddr_in;
const SOCKADDR_IN6 = SIZEOF.sockaddr_in6;

export function sockaddrLength(family: AddressFamily): number {
  return family === 'inet6' ? SOCKADDR_IN6 : SOCKADDR_IN;
}

export function familyNumber(family: AddressFamily): number {
  return family === 'inet6' ? AF_INET6 : AF_INET;
}

/** Full-length prefix of the family (128 or 32). */
export function hostPrefix(family: AddressFamily): number {
  return family === 'inet6' ? 128 : 32;
}

/** Accept "2001:db8::1", "192.0.2.1" or a PfkeySockaddr; port defaults to 0. */
export function toSockaddr(a: string | PfkeySockaddr, port = 0): PfkeySockaddr {
  if (typeof a !== 'string') return a;
  if (isIPv6(a)) return { family: 'inet6', address: formatIPv6(parseIPv6(a)), port, flowinfo: 0, scopeId: 0 };
  if (isIPv4(a)) return { family: 'inet', address: a, port };
  throw new PfkeyError('PFKEY_ENCODE', `not an IPv4 or IPv6 address: "${a}"`);
}

function formatIPv4(b: Buffer, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * RFC 5952 text of the 16 octets at `off`: the same result as common/ipv6.ts formatIPv6
 * (checked in test/unit/pfkey-codec.test.ts), without the intermediate arrays, because
 * every PF_KEY SA message carries two or three addresses.
 */
export function formatIPv6At(b: Uint8Array, off: number): string {
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    const zero = b[off + 2 * i] === 0 && b[off + 2 * i + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) {
        bestStart = runStart;
        bestLen = i - runStart + 1;
      }
    } else {
      runStart = -1;
    }
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    out += ((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!).toString(16);
    if (i < 7) out += ':';
  }
  return out;
}

/** Decode the sockaddr at `off`; `avail` is how many octets the enclosing structure leaves for it. */
export function decodeSockaddr(b: Buffer, off: number, avail: number, what: string): PfkeySockaddr {
  if (avail < 2) throw new PfkeyDecodeError(`${what}: no room for a sockaddr family (${avail} octets)`, off);
  const fam = b.readUInt16LE(off);
  if (fam === AF_INET6) {
    if (avail < SOCKADDR_IN6)
      throw new PfkeyDecodeError(`${what}: sockaddr_in6 needs 28 octets, ${avail} available`, off);
    return {
      family: 'inet6',
      port: b.readUInt16BE(off + 2),
      flowinfo: b.readUInt32BE(off + 4),
      address: formatIPv6At(b, off + 8),
      scopeId: b.readUInt32LE(off + 24),
    };
  }
  if (fam === AF_INET) {
    if (avail < SOCKADDR_IN) throw new PfkeyDecodeError(`${what}: sockaddr_in needs 16 octets, ${avail} available`, off);
    return { family: 'inet', port: b.readUInt16BE(off + 2), address: formatIPv4(b, off + 4) };
  }
  throw new PfkeyDecodeError(`${what}: unsupported sockaddr family ${fam} (expected AF_INET 2 or AF_INET6 10)`, off);
}

/** Write `sa` at `off` (the caller zeroed the buffer); returns the octets written. */
export function encodeSockaddr(sa: PfkeySockaddr, b: Buffer, off: number): number {
  if (sa.family === 'inet6') {
    if (!isIPv6(sa.address)) throw new PfkeyError('PFKEY_ENCODE', `not an IPv6 address: "${sa.address}"`);
    b.writeUInt16LE(AF_INET6, off);
    b.writeUInt16BE(sa.port & 0xffff, off + 2);
    b.writeUInt32BE((sa.flowinfo ?? 0) >>> 0, off + 4);
    parseIPv6(sa.address).copy(b, off + 8);
    b.writeUInt32LE((sa.scopeId ?? 0) >>> 0, off + 24);
    return SOCKADDR_IN6;
  }
  if (!isIPv4(sa.address)) throw new PfkeyError('PFKEY_ENCODE', `not an IPv4 address: "${sa.address}"`);
  b.writeUInt16LE(AF_INET, off);
  b.writeUInt16BE(sa.port & 0xffff, off + 2);
  const parts = sa.address.split('.');
  for (let i = 0; i < 4; i++) b[off + 4 + i] = Number(parts[i]);
  return SOCKADDR_IN;
}

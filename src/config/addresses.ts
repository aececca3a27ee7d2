// Address and prefix helpers for configuration checks: prefixes as (bytes, length), containment,
// and RFC 6275 §4.6's "unicast routable" test for home, agent and peer addresses.
import { formatIPv6, isLinkLocal, isMulticast, isUniqueLocal, isUnspecified, parseIPv6 } from '../common/ipv6.ts';

export interface Prefix {
  /** canonical text of the prefix address with the host bits cleared */
  addr: string;
  len: number;
}

export function isIPv6(text: string): boolean {
  try {
    parseIPv6(text);
    return true;
  } catch {
    return false;
  }
}

/** "2001:db8::/64" (or a bare address, meaning /128). Throws with the input on bad syntax. */
export function parsePrefix(text: string): Prefix {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const lenText = slash < 0 ? '128' : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > 128) throw new Error(`"${text}": the prefix length must be 0-128`);
  const bytes = parseIPv6(addrText);
  const len = Number(lenText);
  return { addr: formatIPv6(maskBytes(bytes, len)), len };
}

export function formatPrefix(p: Prefix): string {
  return `${p.addr}/${p.len}`;
}

function maskBytes(bytes: Uint8Array, len: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, len - i * 8));
    out[i] = out[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** True when `addr` (text) lies inside `p`. */
export function prefixContains(p: Prefix, addr: string): boolean {
  return formatIPv6(maskBytes(parseIPv6(addr), p.len)) === p.addr;
}

/** True when every address of `inner` lies inside `outer`. */
export function prefixCovers(outer: Prefix, inner: Prefix): boolean {
  return inner.len >= outer.len && prefixContains(outer, inner.addr);
}

/** True when the two prefixes share at least one address. */
export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  return prefixCovers(a, b) || prefixCovers(b, a);
}

/** Why `addr` is not a unicast routable address (RFC 6275 §4.6), or null when it is. ULA is separate. */
export function notUnicastRoutable(addr: string): string | null {
  const b = parseIPv6(addr);
  if (isUnspecified(b)) return 'the unspecified address';
  if (isMulticast(b)) return 'a multicast address';
  if (isLinkLocal(b)) return 'a link-local address';
  if (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1) return 'the loopback address';
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return 'an IPv4-mapped address';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return 'a deprecated site-local address (fec0::/10)';
  return null;
}

export function isUla(addr: string): boolean {
  return isUniqueLocal(parseIPv6(addr));
}

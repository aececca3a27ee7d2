// Address helpers shared by the roles: canonical text in, canonical text out, so that state keys
// and comparisons never depend on how the shell or the config spelled an address.
import { canonicalIPv6, formatIPv6, parseIPv6 } from '../common/ipv6.ts';
import { findOption, type MobilityOption } from './codec/index.ts';
import { UNCHANGED, type Address } from './types.ts';

/** RFC 5952 text of `addr`; throws naming `what` when it is not an IPv6 address. */
export function canonicalAddress(addr: string, what = 'address'): Address {
  try {
    return canonicalIPv6(addr);
  } catch {
    throw new Error(`${what}: not an IPv6 address: "${addr}"`);
  }
}

/** The on-wire value of a field: the ancillary one, or the socket's when UNCHANGED ('::'). */
export function onWire(ancillary: Address, socketSide: Address): Address {
  const a = canonicalAddress(ancillary, 'on-wire address');
  return a === UNCHANGED ? socketSide : a;
}

/** The Alternate Care-of Address option of a BU, as canonical text; undefined when absent. */
export function alternateCoa(options: readonly MobilityOption[]): Address | undefined {
  const opt = findOption(options, 'alternateCoa');
  return opt ? formatIPv6(opt.address) : undefined;
}

/** The BU option list announcing `coa` (RFC 6275 §6.2.5). */
export function alternateCoaOption(coa: Address): MobilityOption {
  return { kind: 'alternateCoa', address: parseIPv6(coa) };
}

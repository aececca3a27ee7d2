// Addresses: ifaddrmsg {u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index} + IFA_*.
import { attrU32, AttributeSet, readU32 } from '../netlink/attributes.ts';
import { NetlinkParseError, type NetlinkMessage } from '../netlink/message.ts';
import { addressFamily, addressText, attrAddress } from './common.ts';
import * as R from './constants.ts';

export const IFADDRMSG_SIZE = 8;

export interface AddressSpec {
  ifindex: number;
  address: string;
  prefixlen: number;
  /** skip duplicate address detection (IFA_F_NODAD) */
  nodad?: boolean;
  /** a Mobile IPv6 home address (IFA_F_HOMEADDRESS): preferred as source (RFC 6724 rule 4) */
  home?: boolean;
  scope?: number;
}

export interface Address {
  ifindex: number;
  family: number;
  address: string;
  prefixlen: number;
  flags: number;
  scope: number;
  local?: string;
}

export function ifaddrmsg(family: number, prefixlen = 0, ifindex = 0, scope = 0, flags = 0): Buffer {
  const b = Buffer.alloc(IFADDRMSG_SIZE);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefixlen, 1);
  b.writeUInt8(flags & 0xff, 2);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(ifindex >>> 0, 4);
  return b;
}

export function addressPayload(a: AddressSpec): Buffer[] {
  const family = addressFamily(a.address);
  const flags = (a.nodad ? R.IFA_F_NODAD : 0) | (a.home ? R.IFA_F_HOMEADDRESS : 0);
  const what = `address ${a.address}/${a.prefixlen}`;
  return [
    ifaddrmsg(family, a.prefixlen, a.ifindex, a.scope ?? 0, flags),
    attrAddress(R.IFA_LOCAL, a.address, family, what),
    attrAddress(R.IFA_ADDRESS, a.address, family, what),
    attrU32(R.IFA_FLAGS, flags),
  ];
}

export function decodeAddress(m: NetlinkMessage): Address {
  if (m.payload.length < IFADDRMSG_SIZE) throw new NetlinkParseError(`rtnetlink address: payload is ${m.payload.length} bytes, expected ${IFADDRMSG_SIZE}`, 16, m);
  const p = m.payload;
  const attrs = AttributeSet.parse(p, 'rtnetlink address attributes', IFADDRMSG_SIZE);
  const addr = attrs.first(R.IFA_ADDRESS) ?? attrs.first(R.IFA_LOCAL);
  const flagsAttr = attrs.first(R.IFA_FLAGS);
  const a: Address = {
    family: p[0]!,
    prefixlen: p[1]!,
    flags: flagsAttr ? readU32(flagsAttr, 'IFA_FLAGS') : p[2]!,
    scope: p[3]!,
    ifindex: p.readUInt32LE(4),
    address: addr ? addressText(addr.data) : '',
  };
  const local = attrs.first(R.IFA_LOCAL);
  if (local) a.local = addressText(local.data);
  return a;
}

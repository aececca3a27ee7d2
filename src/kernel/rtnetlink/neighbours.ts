// Neighbours: ndmsg {u8 family, u8 pad, u16 pad, i32 ifindex, u16 state, u8 flags, u8 type} + NDA_*.
// Proxy entries (NTF_PROXY) are what a home agent uses to defend its MNs' home addresses.
import { attr, AttributeSet } from '../netlink/attributes.ts';
import { NetlinkParseError, type NetlinkMessage } from '../netlink/message.ts';
import { addressFamily, addressText, attrAddress, macBytes, macText } from './common.ts';
import * as R from './constants.ts';

export const NDMSG_SIZE = 12;

export interface NeighbourSpec {
  ifindex: number;
  dst: string;
  lladdr?: string;
  /** a proxy entry (answer ND for dst on ifindex) */
  proxy?: boolean;
  state?: number;
}

export interface Neighbour {
  family: number;
  ifindex: number;
  state: number;
  flags: number;
  proxy: boolean;
  dst: string;
  lladdr?: string;
}

export function ndmsg(family: number, ifindex = 0, state = 0, flags = 0): Buffer {
  const b = Buffer.alloc(NDMSG_SIZE);
  b.writeUInt8(family, 0);
  b.writeInt32LE(ifindex, 4);
  b.writeUInt16LE(state, 8);
  b.writeUInt8(flags, 10);
  return b;
}

export function neighbourPayload(n: NeighbourSpec): Buffer[] {
  const family = addressFamily(n.dst);
  const parts = [ndmsg(family, n.ifindex, n.state ?? R.NUD_PERMANENT, n.proxy ? R.NTF_PROXY : 0), attrAddress(R.NDA_DST, n.dst, family, `neighbour ${n.dst}`)];
  if (n.lladdr) parts.push(attr(R.NDA_LLADDR, macBytes(n.lladdr)));
  return parts;
}

export function decodeNeighbour(m: NetlinkMessage): Neighbour {
  if (m.payload.length < NDMSG_SIZE) throw new NetlinkParseError(`rtnetlink neighbour: payload is ${m.payload.length} bytes, expected ${NDMSG_SIZE}`, 16, m);
  const p = m.payload;
  const attrs = AttributeSet.parse(p, 'rtnetlink neighbour attributes', NDMSG_SIZE);
  const dst = attrs.first(R.NDA_DST);
  const flags = p[10]!;
  const n: Neighbour = { family: p[0]!, ifindex: p.readInt32LE(4), state: p.readUInt16LE(8), flags, proxy: (flags & R.NTF_PROXY) !== 0, dst: dst ? addressText(dst.data) : '' };
  const ll = attrs.first(R.NDA_LLADDR);
  if (ll) n.lladdr = macText(ll.data);
  return n;
}

export { addressFamily };

// Links: ifinfomsg {u8 family, u8 pad, u16 type, i32 index, u32 flags, u32 change} + IFLA_*.
import { attr, attrNested, attrString, attrU32, attrU8, AttributeSet, readString, readU32, readU8 } from '../netlink/attributes.ts';
import { NetlinkParseError, type NetlinkMessage } from '../netlink/message.ts';
import { AF_INET6 } from '../constants.ts';
import { addressBytes, macText } from './common.ts';
import * as R from './constants.ts';

export const IFINFOMSG_SIZE = 16;

export interface Link {
  index: number;
  name: string;
  flags: number;
  type: number;
  up: boolean;
  mtu?: number;
  /** IFLA_LINKINFO kind ("veth", "ip6tnl", "xfrm", ...) */
  kind?: string;
  address?: string;
  /** IFLA_LINK: the peer's / lower device's ifindex */
  link?: number;
  master?: number;
  operstate?: number;
}

export function ifinfomsg(index = 0, flags = 0, change = 0, family = 0): Buffer {
  const b = Buffer.alloc(IFINFOMSG_SIZE);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

export function decodeLink(m: NetlinkMessage): Link {
  if (m.payload.length < IFINFOMSG_SIZE) {
    throw new NetlinkParseError(`rtnetlink link (seq ${m.seq}): payload is ${m.payload.length} bytes, expected at least ${IFINFOMSG_SIZE}`, 16, m);
  }
  const p = m.payload;
  const flags = p.readUInt32LE(8);
  const link: Link = { index: p.readInt32LE(4), type: p.readUInt16LE(2), flags, up: (flags & R.IFF_UP) !== 0, name: '' };
  const attrs = AttributeSet.parse(p, 'rtnetlink link attributes', IFINFOMSG_SIZE);
  const name = attrs.first(R.IFLA_IFNAME);
  if (name) link.name = readString(name);
  const mtu = attrs.first(R.IFLA_MTU);
  if (mtu) link.mtu = readU32(mtu, 'IFLA_MTU');
  const addr = attrs.first(R.IFLA_ADDRESS);
  if (addr) link.address = macText(addr.data);
  const lower = attrs.first(R.IFLA_LINK);
  if (lower) link.link = readU32(lower, 'IFLA_LINK');
  const master = attrs.first(R.IFLA_MASTER);
  if (master) link.master = readU32(master, 'IFLA_MASTER');
  const op = attrs.first(R.IFLA_OPERSTATE);
  if (op) link.operstate = readU8(op, 'IFLA_OPERSTATE');
  const info = attrs.first(R.IFLA_LINKINFO);
  if (info) {
    const kind = AttributeSet.parse(info.data, 'IFLA_LINKINFO').first(R.IFLA_INFO_KIND);
    if (kind) link.kind = readString(kind);
  }
  return link;
}

function linkInfo(kind: string, data: Buffer[]): Buffer {
  const parts = [attrString(R.IFLA_INFO_KIND, kind)];
  if (data.length) parts.push(attrNested(R.IFLA_INFO_DATA, data));
  return attrNested(R.IFLA_LINKINFO, parts);
}

/** RTM_NEWLINK payload for a veth pair; the peer may be created in another netns (fd). */
export function vethPayload(name: string, peerName: string, peerNetnsFd?: number): Buffer[] {
  const peer = [ifinfomsg(), attrString(R.IFLA_IFNAME, peerName)];
  if (peerNetnsFd !== undefined) peer.push(attrU32(R.IFLA_NET_NS_FD, peerNetnsFd));
  return [ifinfomsg(), attrString(R.IFLA_IFNAME, name), linkInfo('veth', [attr(R.VETH_INFO_PEER, Buffer.concat(peer))])];
}

export interface Ip6TunnelOptions {
  local: string;
  remote: string;
  /** lower device ifindex */
  link?: number;
  ttl?: number;
  /** inner protocol: 41 (IPv6-in-IPv6, default), 4 (IPv4), 0 (any) */
  proto?: number;
  /** encapsulation limit; null = none (IP6_TNL_F_IGN_ENCAP_LIMIT) */
  encapLimit?: number | null;
  flags?: number;
}

/** RTM_NEWLINK payload for an ip6tnl device (the MN-HA tunnel). */
export function ip6TunnelPayload(name: string, o: Ip6TunnelOptions): Buffer[] {
  const data: Buffer[] = [];
  if (o.link !== undefined) data.push(attrU32(R.IFLA_IPTUN_LINK, o.link));
  data.push(attr(R.IFLA_IPTUN_LOCAL, addressBytes(o.local, AF_INET6, `${name} local`)));
  data.push(attr(R.IFLA_IPTUN_REMOTE, addressBytes(o.remote, AF_INET6, `${name} remote`)));
  if (o.ttl !== undefined) data.push(attrU8(R.IFLA_IPTUN_TTL, o.ttl));
  let flags = o.flags ?? 0;
  if (o.encapLimit === null) flags |= R.IP6_TNL_F_IGN_ENCAP_LIMIT;
  else if (o.encapLimit !== undefined) data.push(attrU8(R.IFLA_IPTUN_ENCAP_LIMIT, o.encapLimit));
  data.push(attrU32(R.IFLA_IPTUN_FLAGS, flags));
  data.push(attrU8(R.IFLA_IPTUN_PROTO, o.proto ?? 41));
  return [ifinfomsg(), attrString(R.IFLA_IFNAME, name), linkInfo('ip6tnl', data)];
}

/** RTM_NEWLINK payload changing an existing ip6tnl's endpoints (the MN-HA tunnel follows the CoA). */
export function ip6TunnelChangePayload(index: number, o: Ip6TunnelOptions): Buffer[] {
  const [, , info] = ip6TunnelPayload('x', o);
  return [ifinfomsg(index), info!];
}

/** RTM_NEWLINK payload for an xfrm interface (policies/SAs bound by if_id). */
export function xfrmInterfacePayload(name: string, ifId: number, link?: number): Buffer[] {
  const data = [attrU32(R.IFLA_XFRM_IF_ID, ifId)];
  if (link !== undefined) data.unshift(attrU32(R.IFLA_XFRM_LINK, link));
  return [ifinfomsg(), attrString(R.IFLA_IFNAME, name), linkInfo('xfrm', data)];
}

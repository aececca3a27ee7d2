// sockaddr encoders/decoders (little-endian host fields, network-order ports), so the
// addon can stay family-agnostic.
import { AF_INET6, AF_NETLINK, AF_PACKET } from './constants.ts';
import { formatIPv6, parseIPv6 } from '../common/ipv6.ts';

export interface SockaddrIn6 {
  address: string;
  port: number;
  flowinfo: number;
  scopeId: number;
}

export function sockaddrIn6(address: string | Uint8Array, port = 0, scopeId = 0, flowinfo = 0): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  b.writeUInt32BE(flowinfo, 4);
  const a = typeof address === 'string' ? parseIPv6(address) : Buffer.from(address);
  a.copy(b, 8);
  b.writeUInt32LE(scopeId, 24);
  return b;
}

export function decodeSockaddrIn6(b: Buffer): SockaddrIn6 {
  if (b.length < 24 || b.readUInt16LE(0) !== AF_INET6) throw new Error('not a sockaddr_in6');
  return {
    port: b.readUInt16BE(2),
    flowinfo: b.readUInt32BE(4),
    address: formatIPv6(b.subarray(8, 24)),
    scopeId: b.length >= 28 ? b.readUInt32LE(24) : 0,
  };
}

/** sockaddr_nl: pid 0 lets the kernel pick the port id; groups is the legacy 32-bit mask. */
export function sockaddrNl(pid = 0, groups = 0): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16LE(AF_NETLINK, 0);
  b.writeUInt32LE(pid >>> 0, 4);
  b.writeUInt32LE(groups >>> 0, 8);
  return b;
}

export function decodeSockaddrNl(b: Buffer): { pid: number; groups: number } {
  if (b.length < 12 || b.readUInt16LE(0) !== AF_NETLINK) throw new Error('not a sockaddr_nl');
  return { pid: b.readUInt32LE(4), groups: b.readUInt32LE(8) };
}

/** sockaddr_ll for AF_PACKET bind/send. */
export function sockaddrLl(ifindex: number, protocol: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16LE(AF_PACKET, 0);
  b.writeUInt16BE(protocol, 2);
  b.writeInt32LE(ifindex, 4);
  return b;
}

/** in6_pktinfo {in6_addr; int ifindex} for IPV6_PKTINFO cmsgs. */
export function in6Pktinfo(address: string | Uint8Array, ifindex = 0): Buffer {
  const b = Buffer.alloc(20);
  (typeof address === 'string' ? parseIPv6(address) : Buffer.from(address)).copy(b, 0);
  b.writeInt32LE(ifindex, 16);
  return b;
}

export function decodeIn6Pktinfo(b: Buffer): { address: string; ifindex: number } {
  if (b.length < 20) throw new Error('in6_pktinfo is 20 bytes');
  return { address: formatIPv6(b.subarray(0, 16)), ifindex: b.readInt32LE(16) };
}

// Sending test traffic from inside a namespace with the project's addon: raw IPv6 sockets of
// any next-header (the kernel builds the IPv6 header) and AF_PACKET for whole frames.
import { DatagramSocket } from '../../src/kernel/socket.ts';
import { inNetns } from '../../src/kernel/netns.ts';
import { native } from '../../src/kernel/native.ts';
import { AF_INET6, AF_PACKET, SOCK_RAW, ETH_P_IPV6 } from '../../src/kernel/constants.ts';
import { sockaddrIn6, sockaddrLl } from '../../src/kernel/sockaddr.ts';

/** Send `count` raw packets of protocol `proto` from `src` to `dst` inside namespace `ns`. */
export function sendRawIpv6(ns: string, opts: { proto: number; src: string; dst: string; payload: Buffer; count?: number; mark?: number }): void {
  const s = inNetns(ns, () => DatagramSocket.open(AF_INET6, SOCK_RAW, opts.proto, { label: `raw proto ${opts.proto} in ${ns}` }));
  try {
    s.bind(sockaddrIn6(opts.src));
    if (opts.mark) s.setOption(1 /* SOL_SOCKET */, 36 /* SO_MARK */, opts.mark);
    for (let i = 0; i < (opts.count ?? 1); i++) s.send(opts.payload, { addr: sockaddrIn6(opts.dst) });
  } finally {
    s.close();
  }
}

/** ESP header bytes (SPI, sequence) plus a filler payload. */
export function espPayload(spi: number, seq = 1, bodyLen = 32): Buffer {
  const b = Buffer.alloc(8 + bodyLen, 0x5c);
  b.writeUInt32BE(spi >>> 0, 0);
  b.writeUInt32BE(seq >>> 0, 4);
  return b;
}

/** Inject whole Ethernet frames on `ifname` inside `ns` (AF_PACKET, through tc egress). */
export function sendFrames(ns: string, ifname: string, frames: Buffer[]): void {
  const s = inNetns(ns, () => DatagramSocket.open(AF_PACKET, SOCK_RAW, 0, { label: `packet socket on ${ns}/${ifname}` }));
  try {
    const ifindex = inNetns(ns, () => native().ifNameToIndex(ifname));
    const addr = sockaddrLl(ifindex, ETH_P_IPV6);
    for (const f of frames) s.send(f, { addr });
  } finally {
    s.close();
  }
}

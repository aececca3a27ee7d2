// The Mobility Header socket (issue 6 item 2): raw IPv6 protocol 135 (the kernel computes and
// verifies the checksum), sending from the HoA with the on-wire addresses the IRO data path
// should put on the wire, receiving with the on-wire addresses exposed. Malformed messages are
// dropped and counted, never thrown past the socket loop.
import { DatagramSocket } from '../kernel/socket.ts';
import { inNetns } from '../kernel/netns.ts';
import { AF_INET6, IPPROTO_IPV6, IPPROTO_MH, IPV6_PKTINFO, IPV6_RECVPKTINFO, SOCK_RAW, SOL_SOCKET, SO_MARK, SO_RCVMARK } from '../kernel/constants.ts';
import { decodeIn6Pktinfo, decodeSockaddrIn6, in6Pktinfo, sockaddrIn6 } from '../kernel/sockaddr.ts';
import type { ControlMessage, ReceivedDatagram } from '../kernel/native.ts';
import { decodeMh, encodeMh, type MhCodecConfig, type MhMessage } from './codec/index.ts';
import { AncillaryChannel, type OnWire } from '../iro/ancillary.ts';
import { silentLogger, type Logger } from '../obs/log.ts';

export interface MhSend {
  msg: MhMessage;
  /** HoA-level addresses (what IPsec and the MH checksum see) */
  src: string;
  dst: string;
  onWireSrc?: string;
  onWireDst?: string;
}

export interface MhReceived {
  msg: MhMessage;
  src: string;
  dst: string;
  onWire: OnWire;
  ifindex: number;
}

export interface MhSocketOptions {
  netns?: string;
  channel: AncillaryChannel;
  codec?: MhCodecConfig;
  /** inbound MH SAs that may carry a message from src to dst (for the per-SPI fallback) */
  candidateSas?: (src: string, dst: string) => Array<{ proto: 'esp' | 'ah'; spi: number }>;
  log?: Logger;
}

export class MhSocket {
  readonly drops = new Map<string, number>();
  private readonly sock: DatagramSocket;
  private readonly opts: MhSocketOptions;
  private readonly log: Logger;
  private rcvMark: boolean;

  private constructor(sock: DatagramSocket, opts: MhSocketOptions, rcvMark: boolean) {
    this.sock = sock;
    this.opts = opts;
    this.log = opts.log ?? silentLogger;
    this.rcvMark = rcvMark;
  }

  static open(opts: MhSocketOptions): MhSocket {
    const make = () => DatagramSocket.open(AF_INET6, SOCK_RAW, IPPROTO_MH, { label: 'mobility header socket' });
    const sock = opts.netns ? inNetns(opts.netns, make) : make();
    try {
      sock.setOption(IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
      let rcvMark = true;
      try {
        sock.setOption(SOL_SOCKET, SO_RCVMARK, 1);
      } catch {
        rcvMark = false; // kernel < 5.19: per-SPI records only (documented fallback, OP-11)
      }
      return new MhSocket(sock, opts, rcvMark);
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  /** Whether received packets are matched to their own on-wire record (SO_RCVMARK). */
  get exactCorrelation(): boolean {
    return this.rcvMark;
  }

  send(s: MhSend): void {
    const bytes = encodeMh(s.msg, this.opts.codec ? { config: this.opts.codec } : {});
    const cmsgs: ControlMessage[] = [{ level: IPPROTO_IPV6, type: IPV6_PKTINFO, data: in6Pktinfo(s.src) }];
    if (s.onWireSrc || s.onWireDst) {
      const mark = this.opts.channel.outgoingMark({ ...(s.onWireSrc ? { src: s.onWireSrc } : {}), ...(s.onWireDst ? { dst: s.onWireDst } : {}) });
      const m = Buffer.alloc(4);
      m.writeUInt32LE(mark);
      cmsgs.push({ level: SOL_SOCKET, type: SO_MARK, data: m });
    }
    this.sock.send(bytes, { addr: sockaddrIn6(s.dst), cmsgs });
    // debug only: the handover benchmark times each signalling step from these lines
    this.log.debug({ kind: s.msg.kind, src: s.src, dst: s.dst, onWireSrc: s.onWireSrc, onWireDst: s.onWireDst }, 'mobility header sent');
  }

  start(onMessage: (m: MhReceived) => void): void {
    this.sock.start(
      (msgs) => {
        for (const d of msgs) {
          const r = this.receive(d);
          if (r) onMessage(r);
        }
      },
      (err) => this.log.warn({ error: err.message }, 'mobility header socket error'),
    );
  }

  setRef(ref: boolean): void {
    this.sock.setRef(ref);
  }

  close(): void {
    this.sock.close();
  }

  private drop(reason: string): null {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    this.log.debug({ reason }, 'mobility header message dropped');
    return null;
  }

  /** One datagram -> a message with its addresses, or null (dropped and counted). */
  receive(d: ReceivedDatagram): MhReceived | null {
    if (d.truncated) return this.drop('truncated');
    let src: string;
    try {
      src = decodeSockaddrIn6(d.addr).address;
    } catch {
      return this.drop('bad-source');
    }
    const pi = d.cmsgs.find((c) => c.level === IPPROTO_IPV6 && c.type === IPV6_PKTINFO);
    if (!pi) return this.drop('no-pktinfo');
    const { address: dst, ifindex } = decodeIn6Pktinfo(pi.data);
    const decoded = decodeMh(d.data, this.opts.codec ? { config: this.opts.codec } : {});
    if (!decoded.ok) return this.drop(decoded.reason);
    const markMsg = d.cmsgs.find((c) => c.level === SOL_SOCKET && c.type === SO_MARK);
    const mark = markMsg ? markMsg.data.readUInt32LE(0) : undefined;
    const onWire = this.opts.channel.incoming(mark, this.opts.candidateSas?.(src, dst) ?? [], process.hrtime.bigint(), this.rcvMark);
    this.log.debug({ kind: decoded.msg.kind, src, dst, onWireSrc: onWire.src, onWireDst: onWire.dst, ifindex }, 'mobility header received');
    return { msg: decoded.msg, src, dst, onWire, ifindex };
  }
}

// A netlink socket: DatagramSocket + netlink options (extended ACK, capped ACKs, large
// receive queue, multicast membership) and parsed delivery. ENOBUFS (the kernel dropped
// messages because our queue was full) is reported apart from other errors as an overrun.
import { DatagramSocket } from '../socket.ts';
import {
  AF_NETLINK,
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_CAP_ACK,
  NETLINK_DROP_MEMBERSHIP,
  NETLINK_EXT_ACK,
  SOCK_RAW,
  SOL_NETLINK,
} from '../constants.ts';
import { decodeSockaddrNl, sockaddrNl } from '../sockaddr.ts';
import { inNetns } from '../netns.ts';
import { parseDatagram, type NetlinkMessage, type NetlinkParseError } from './message.ts';
import type { NativeError } from '../native.ts';
import { ENOBUFS } from './errors.ts';


export interface NetlinkSocketOptions {
  /** NETLINK_ROUTE, NETLINK_XFRM, ... */
  protocol: number;
  /** names the socket in errors, e.g. "xfrm requests" */
  label: string;
  /** kernel receive queue (SO_RCVBUFFORCE); default 4 MiB */
  kernelRcvBuf?: number;
  /** largest datagram read at once; default 256 KiB (dump skbs are far smaller) */
  rxBufferSize?: number;
  /** datagrams delivered per event-loop turn */
  batch?: number;
  /** multicast groups to join (NETLINK_ADD_MEMBERSHIP) */
  groups?: number[];
  /** open the socket inside this network namespace (`ip netns` name or path) */
  netns?: string;
}

export interface NetlinkHandlers {
  messages(msgs: NetlinkMessage[]): void;
  /** ENOBUFS: messages were lost; the receiver must resynchronise */
  overrun(): void;
  /** a malformed datagram or a receive error other than ENOBUFS */
  error(err: Error): void;
}

export class NetlinkSocket {
  readonly label: string;
  readonly protocol: number;
  readonly portId: number;
  private readonly sock: DatagramSocket;

  private constructor(sock: DatagramSocket, opts: NetlinkSocketOptions) {
    this.sock = sock;
    this.label = opts.label;
    this.protocol = opts.protocol;
    this.portId = decodeSockaddrNl(sock.localAddress()).pid;
  }

  static open(opts: NetlinkSocketOptions): NetlinkSocket {
    const create = (): DatagramSocket => {
      const sock = DatagramSocket.open(AF_NETLINK, SOCK_RAW, opts.protocol, {
        label: opts.label,
        rxBufferSize: opts.rxBufferSize ?? 256 * 1024,
        batch: opts.batch ?? 64,
        kernelRcvBuf: opts.kernelRcvBuf ?? 4 * 1024 * 1024,
      });
      try {
        sock.setOption(SOL_NETLINK, NETLINK_EXT_ACK, 1);
        // Capped ACKs do not echo the request: smaller ACKs, and a refused SA's keys never
        // come back to us inside the error.
        sock.setOption(SOL_NETLINK, NETLINK_CAP_ACK, 1);
        sock.bind(sockaddrNl(0, 0));
        for (const g of opts.groups ?? []) sock.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g);
      } catch (e) {
        sock.close();
        throw e;
      }
      return sock;
    };
    return new NetlinkSocket(opts.netns ? inNetns(opts.netns, create) : create(), opts);
  }

  get closed(): boolean {
    return this.sock.closed;
  }

  subscribe(group: number): void {
    this.sock.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group);
  }

  unsubscribe(group: number): void {
    this.sock.setOption(SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, group);
  }

  setKernelRcvBuf(bytes: number): void {
    this.sock.setKernelRcvBuf(bytes);
  }

  /** Send one or more already-encoded messages to the kernel (port 0) in one datagram. */
  send(data: Buffer): void {
    this.sock.send(data, { addr: sockaddrNl(0, 0) });
  }

  start(h: NetlinkHandlers): void {
    const onData = (datagrams: { data: Buffer; truncated: boolean }[]) => {
      const all: NetlinkMessage[] = [];
      for (const d of datagrams) {
        if (d.truncated) {
          h.error(new Error(`${this.label}: a ${d.data.length}-byte read truncated a datagram (raise rxBufferSize)`));
          continue;
        }
        const r = parseDatagram(d.data);
        for (const m of r.messages) all.push(m);
        if (r.error) h.error(prefixed(r.error, this.label));
      }
      if (all.length) h.messages(all);
    };
    const onError = (err: NativeError) => {
      // A pending ENOBUFS (events lost) arrives as an error; the addon keeps watching the fd.
      if (err.errno === ENOBUFS || err.code === 'ENOBUFS') h.overrun();
      else h.error(err);
    };
    this.sock.start(onData, onError);
  }

  /** true when the kernel has queued data for us (a zero-timeout poll). */
  hasPending(): boolean {
    return this.sock.waitReadable(0);
  }

  /** Whether a started socket keeps the process alive. */
  setRef(ref: boolean): void {
    if (!this.sock.closed) this.sock.setRef(ref);
  }

  close(): void {
    this.sock.close();
  }
}

function prefixed(e: NetlinkParseError, label: string): NetlinkParseError {
  e.message = `${label}: ${e.message}`;
  return e;
}

// Multicast side of the netlink core: a socket of its own that joins groups and delivers
// every message as an event. An overrun (ENOBUFS) means events were lost: listeners must
// resynchronise with a dump on a request socket (DIGEST OP-15).
import { EventEmitter } from 'node:events';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN } from './constants.ts';
import type { NetlinkMessage } from './message.ts';
import { NetlinkSocket, type NetlinkSocketOptions } from './socket.ts';

export interface NetlinkSubscriberEvents {
  message: [NetlinkMessage];
  overrun: [];
  error: [Error];
}

export class NetlinkSubscriber extends EventEmitter<NetlinkSubscriberEvents> {
  readonly socket: NetlinkSocket;
  private overruns = 0;

  constructor(socket: NetlinkSocket) {
    super();
    this.socket = socket;
  }

  /** Open, join `groups` and start delivering (the socket does not keep the process alive). */
  static open(opts: NetlinkSocketOptions & { groups: number[] }): NetlinkSubscriber {
    const s = new NetlinkSubscriber(NetlinkSocket.open({ kernelRcvBuf: 8 * 1024 * 1024, ...opts }));
    s.start();
    return s;
  }

  /** How many overruns were seen since the subscriber opened. */
  get overrunCount(): number {
    return this.overruns;
  }

  private start(): void {
    this.socket.start({
      messages: (msgs) => {
        for (const m of msgs) {
          if (m.type === NLMSG_NOOP || m.type === NLMSG_DONE || m.type === NLMSG_ERROR) continue;
          if (m.type === NLMSG_OVERRUN) {
            this.signalOverrun();
            continue;
          }
          this.emit('message', m);
        }
      },
      overrun: () => this.signalOverrun(),
      error: (e) => {
        if (this.listenerCount('error')) this.emit('error', e);
      },
    });
    this.socket.setRef(false);
  }

  private signalOverrun(): void {
    this.overruns++;
    this.emit('overrun');
  }

  /** Keep the process alive while subscribed (daemons), or not (tools, tests). */
  setRef(ref: boolean): void {
    this.socket.setRef(ref);
  }

  close(): void {
    this.socket.close();
  }
}

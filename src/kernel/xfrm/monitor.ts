// XFRM multicast events, decoded. One socket joins the groups; each message becomes one
// typed event. Keys in NEWSA/UPDSA/DELSA events are dropped at decode time. An overrun
// (ENOBUFS) is surfaced so the SA/SP mirror can resync with a dump (DIGEST OP-15).
import { EventEmitter } from 'node:events';
import { NetlinkSubscriber } from '../netlink/subscriber.ts';
import { NETLINK_XFRM } from '../constants.ts';
import { decodeXfrmMessage } from './codec.ts';
import * as C from './constants.ts';
import type { XfrmMessage } from './model.ts';
import type { KernelLogger } from '../netlink/client.ts';
import { formatXfrmMessage } from './format.ts';

export const DEFAULT_XFRM_GROUPS = [C.XFRMNLGRP_ACQUIRE, C.XFRMNLGRP_EXPIRE, C.XFRMNLGRP_SA, C.XFRMNLGRP_POLICY, C.XFRMNLGRP_MIGRATE];

export interface XfrmMonitorOptions {
  groups?: number[];
  netns?: string;
  /** kernel receive queue; default 8 MiB (small values are for overrun tests) */
  kernelRcvBuf?: number;
  logger?: KernelLogger;
}

export interface XfrmMonitorEvents {
  event: [XfrmMessage];
  /** events were lost: dump and reconcile */
  overrun: [];
  /** a message that could not be decoded (the monitor keeps running) */
  error: [Error];
}

export class XfrmMonitor extends EventEmitter<XfrmMonitorEvents> {
  readonly subscriber: NetlinkSubscriber;
  private readonly logger: KernelLogger | undefined;

  private constructor(sub: NetlinkSubscriber, logger?: KernelLogger) {
    super();
    this.subscriber = sub;
    this.logger = logger;
    sub.on('message', (m) => {
      if (this.logger && (this.logger.isLevelEnabled?.('debug') ?? true)) this.logger.debug({ event: formatXfrmMessage(m) }, 'xfrm event');
      let d: XfrmMessage;
      try {
        d = decodeXfrmMessage(m);
      } catch (e) {
        if (this.listenerCount('error')) this.emit('error', e as Error);
        else this.logger?.warn({ error: (e as Error).message }, 'malformed xfrm event dropped');
        return;
      }
      this.emit('event', d);
    });
    sub.on('overrun', () => {
      this.logger?.warn({}, 'xfrm event queue overrun (ENOBUFS): events lost, resync needed');
      this.emit('overrun');
    });
    sub.on('error', (e) => {
      if (this.listenerCount('error')) this.emit('error', e);
    });
  }

  static open(opts: XfrmMonitorOptions = {}): XfrmMonitor {
    const o: Parameters<typeof NetlinkSubscriber.open>[0] = {
      protocol: NETLINK_XFRM,
      label: opts.netns ? `xfrm events (netns ${opts.netns})` : 'xfrm events',
      groups: opts.groups ?? DEFAULT_XFRM_GROUPS,
    };
    if (opts.netns) o.netns = opts.netns;
    if (opts.kernelRcvBuf) o.kernelRcvBuf = opts.kernelRcvBuf;
    return new XfrmMonitor(NetlinkSubscriber.open(o), opts.logger);
  }

  get overrunCount(): number {
    return this.subscriber.overrunCount;
  }

  setRef(ref: boolean): void {
    this.subscriber.setRef(ref);
  }

  close(): void {
    this.subscriber.close();
  }
}

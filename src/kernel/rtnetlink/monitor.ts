// rtnetlink events for movement detection: links, IPv6 addresses and IPv6 routes, decoded into
// typed events. Lost events (ENOBUFS) are reported as an overrun so the caller re-reads state.
import { EventEmitter } from 'node:events';
import { NetlinkSubscriber } from '../netlink/subscriber.ts';
import { NETLINK_ROUTE } from '../constants.ts';
import { decodeLink, type Link } from './links.ts';
import { decodeAddress, type Address } from './addresses.ts';
import { decodeRoute, type Route } from './routes.ts';
import * as R from './constants.ts';

export const RTNLGRP_LINK = 1;
export const RTNLGRP_IPV6_IFADDR = 9;
export const RTNLGRP_IPV6_ROUTE = 11;

export type RtEvent =
  | { type: 'link'; removed: boolean; link: Link }
  | { type: 'address'; removed: boolean; address: Address }
  | { type: 'route'; removed: boolean; route: Route };

export interface RtMonitorEvents {
  event: [RtEvent];
  overrun: [];
  error: [Error];
}

export class RtnetlinkMonitor extends EventEmitter<RtMonitorEvents> {
  private constructor(private readonly sub: NetlinkSubscriber) {
    super();
    sub.on('message', (m) => {
      try {
        switch (m.type) {
          case R.RTM_NEWLINK:
          case R.RTM_DELLINK:
            this.emit('event', { type: 'link', removed: m.type === R.RTM_DELLINK, link: decodeLink(m) });
            break;
          case R.RTM_NEWADDR:
          case R.RTM_DELADDR:
            this.emit('event', { type: 'address', removed: m.type === R.RTM_DELADDR, address: decodeAddress(m) });
            break;
          case R.RTM_NEWROUTE:
          case R.RTM_DELROUTE:
            this.emit('event', { type: 'route', removed: m.type === R.RTM_DELROUTE, route: decodeRoute(m) });
            break;
        }
      } catch (e) {
        this.emit('error', e as Error);
      }
    });
    sub.on('overrun', () => this.emit('overrun'));
    sub.on('error', (e) => this.emit('error', e));
  }

  static open(opts: { netns?: string } = {}): RtnetlinkMonitor {
    return new RtnetlinkMonitor(
      NetlinkSubscriber.open({
        protocol: NETLINK_ROUTE,
        label: opts.netns ? `rtnetlink events (netns ${opts.netns})` : 'rtnetlink events',
        groups: [RTNLGRP_LINK, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_ROUTE],
        ...(opts.netns ? { netns: opts.netns } : {}),
      }),
    );
  }

  setRef(ref: boolean): void {
    this.sub.setRef(ref);
  }

  close(): void {
    this.sub.close();
  }
}

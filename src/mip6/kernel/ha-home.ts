// The HA's side of a registered home address (RFC 6275 §4.1, HAIPSEC I7): proxy ND for the HoA
// on the home link, and a tunnel to the MN's current CoA carrying the HoA's traffic. One
// ip6tnl per MN (named from the HoA), moved when the CoA changes.
import { createHash } from 'node:crypto';
import type { RtnetlinkClient } from '../../kernel/rtnetlink/client.ts';
import { silentLogger, type Logger } from '../../obs/log.ts';
import { setIpv6Conf } from './sysctl.ts';

export interface HaHomeOptions {
  homeLink: string;
  address: string;
  log?: Logger;
}

/** A stable interface name (<= 15 chars) for the tunnel of one HoA. */
export function tunnelNameFor(hoa: string): string {
  return `iromn${createHash('sha256').update(hoa).digest('hex').slice(0, 8)}`;
}

export class HaHome {
  private readonly log: Logger;
  private readonly bound = new Map<string, string>();
  private homeIndex = 0;

  constructor(
    private readonly rt: RtnetlinkClient,
    private readonly o: HaHomeOptions,
  ) {
    this.log = o.log ?? silentLogger;
  }

  /** Home link settings an HA needs: forwarding and proxy ND. */
  async prepare(): Promise<void> {
    this.homeIndex = (await this.rt.requireLink(this.o.homeLink)).index;
    setIpv6Conf('all', 'forwarding', 1);
    setIpv6Conf(this.o.homeLink, 'proxy_ndp', 1);
  }

  /** Registered (coa) or deregistered (null) home address. */
  async setBinding(hoa: string, coa: string | null): Promise<void> {
    const name = tunnelNameFor(hoa);
    let link = await this.rt.getLink(name);
    if (!coa) {
      if (link) await this.rt.deleteLink(link.index); // its route goes with it
      await this.rt.deleteNeighbour({ ifindex: this.homeIndex, dst: hoa, proxy: true }).catch(() => undefined);
      this.bound.delete(hoa);
      this.log.info({ hoa }, 'home address deregistered: proxy ND and tunnel removed');
      return;
    }
    if (!link) {
      await this.rt.createIp6Tunnel(name, { local: this.o.address, remote: coa, encapLimit: null });
      link = await this.rt.requireLink(name);
    } else if (this.bound.get(hoa) !== coa) {
      await this.rt.changeIp6Tunnel(name, { local: this.o.address, remote: coa, encapLimit: null });
    }
    await this.rt.setLinkUp(link.index, true);
    await this.rt.addRoute({ dst: hoa, dstLen: 128, oif: link.index }, { replace: true });
    const proxies = await this.rt.listNeighbours({ proxy: true });
    if (!proxies.some((n) => n.dst === hoa && n.ifindex === this.homeIndex)) await this.rt.addNeighbour({ ifindex: this.homeIndex, dst: hoa, proxy: true });
    this.bound.set(hoa, coa);
    this.log.info({ hoa, coa, tunnel: name }, 'home address registered: proxy ND on the home link, tunnel to the CoA');
  }

  async removeAll(): Promise<void> {
    for (const hoa of [...this.bound.keys()]) await this.setBinding(hoa, null);
  }
}

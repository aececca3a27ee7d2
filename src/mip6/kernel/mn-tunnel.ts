// The MN's side of DESIGN decision 7 (OP-27, design A): the home address lives on an ip6tnl
// device to the HA, and a source rule sends every packet from the HoA into it. Only IPsec
// packets with an effective binding leave directly (the tunnel device's egress program
// redirects them after the rewrite); everything else stays in the IPsec-protected tunnel.
// The tunnel's outer source follows the CoA (HAIPSEC I6).
import type { RtnetlinkClient } from '../../kernel/rtnetlink/client.ts';
import { silentLogger, type Logger } from '../../obs/log.ts';

const AF_INET6 = 10;

export interface MnTunnelOptions {
  name: string;
  table: number;
  rulePriority: number;
  hoas: string[];
  homeAgent: string;
  log?: Logger;
}

export class MnHomeTunnel {
  private readonly log: Logger;
  private local: string | null = null;
  private ruled = false;

  constructor(
    private readonly rt: RtnetlinkClient,
    private readonly o: MnTunnelOptions,
  ) {
    this.log = o.log ?? silentLogger;
  }

  get name(): string {
    return this.o.name;
  }

  /** The tunnel device's ifindex (0 if absent). */
  async ifindex(): Promise<number> {
    return (await this.rt.getLink(this.o.name))?.index ?? 0;
  }

  /**
   * Away from home with `coa`: tunnel CoA -> HA up, HoA(s) on it, `from HoA lookup table` and
   * `default dev tunnel` in that table. At home or without a CoA (`coa` null): the tunnel goes
   * down and the source rule goes, so HoA traffic follows the normal routes.
   */
  async follow(coa: string | null): Promise<void> {
    let link = await this.rt.getLink(this.o.name);
    if (coa) {
      if (!link) {
        await this.rt.createIp6Tunnel(this.o.name, { local: coa, remote: this.o.homeAgent, encapLimit: null });
        link = await this.rt.requireLink(this.o.name);
        this.log.info({ tunnel: this.o.name, local: coa, remote: this.o.homeAgent }, 'MN-HA tunnel created');
      } else if (this.local !== coa) {
        await this.rt.changeIp6Tunnel(this.o.name, { local: coa, remote: this.o.homeAgent, encapLimit: null });
        this.log.info({ tunnel: this.o.name, local: coa }, 'MN-HA tunnel follows the CoA');
      }
      this.local = coa;
      await this.rt.setLinkUp(link.index, true);
      const have = new Set((await this.rt.listAddresses({ family: AF_INET6, ifindex: link.index })).map((a) => a.address));
      for (const hoa of this.o.hoas) {
        if (!have.has(hoa)) await this.rt.addAddress({ ifindex: link.index, address: hoa, prefixlen: 128, nodad: true, home: true });
      }
      await this.rt.addRoute({ dst: '::', dstLen: 0, oif: link.index, table: this.o.table }, { replace: true });
      await this.ensureRules(true);
    } else {
      await this.ensureRules(false);
      if (link) await this.rt.setLinkUp(link.index, false);
      this.local = null;
    }
  }

  private async ensureRules(present: boolean): Promise<void> {
    const rules = await this.rt.listRules(AF_INET6);
    for (const hoa of this.o.hoas) {
      const exists = rules.some((r) => r.src === hoa && r.srcLen === 128 && r.table === this.o.table);
      if (present && !exists) await this.rt.addRule({ src: hoa, srcLen: 128, table: this.o.table, priority: this.o.rulePriority, family: AF_INET6 });
      if (!present && exists) await this.rt.deleteRule({ src: hoa, srcLen: 128, table: this.o.table, priority: this.o.rulePriority, family: AF_INET6 });
    }
    this.ruled = present;
  }

  /** Remove the rule, the table route and the device: `iro-ctl down`. */
  async remove(): Promise<void> {
    await this.ensureRules(false).catch(() => undefined);
    const link = await this.rt.getLink(this.o.name);
    if (link) await this.rt.deleteLink(link.index);
    this.local = null;
  }

  get routedThroughTunnel(): boolean {
    return this.ruled;
  }
}

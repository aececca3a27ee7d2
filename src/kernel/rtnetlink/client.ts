// rtnetlink client on the shared netlink core: links, addresses, routes, rules, neighbours.
// Minimal on purpose; the signalling work extends it.
import { NetlinkClient, type KernelLogger } from '../netlink/client.ts';
import { NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from '../netlink/constants.ts';
import { attrString } from '../netlink/attributes.ts';
import { AF_INET6, NETLINK_ROUTE } from '../constants.ts';
import * as R from './constants.ts';
import { decodeLink, ifinfomsg, ip6TunnelChangePayload, ip6TunnelPayload,
  vethPayload, xfrmInterfacePayload, IFINFOMSG_SIZE, type Ip6TunnelOptions, type Link } from './links.ts';
import { addressPayload, decodeAddress, ifaddrmsg, IFADDRMSG_SIZE, type Address, type AddressSpec } from './addresses.ts';
import { decodeRoute, routePayload, routeQueryPayload, rtmsg, RTMSG_SIZE, type Route, type RouteQuery, type RouteSpec } from './routes.ts';
import { decodeRule, ruleDumpPayload, rulePayload, FIB_RULE_HDR_SIZE, type Rule, type RuleSpec } from './rules.ts';
import { decodeNeighbour, ndmsg, neighbourPayload, NDMSG_SIZE, type Neighbour, type NeighbourSpec } from './neighbours.ts';

export interface RtnetlinkClientOptions {
  netns?: string;
  logger?: KernelLogger;
  timeoutMs?: number;
}

const CREATE = NLM_F_CREATE | NLM_F_EXCL;

export class RtnetlinkClient {
  readonly netlink: NetlinkClient;

  constructor(netlink: NetlinkClient) {
    this.netlink = netlink;
  }

  static open(opts: RtnetlinkClientOptions = {}): RtnetlinkClient {
    const o: Parameters<typeof NetlinkClient.open>[0] = { protocol: NETLINK_ROUTE, label: opts.netns ? `rtnetlink (netns ${opts.netns})` : 'rtnetlink' };
    if (opts.netns) o.netns = opts.netns;
    if (opts.logger) o.logger = opts.logger;
    if (opts.timeoutMs) o.timeoutMs = opts.timeoutMs;
    return new RtnetlinkClient(NetlinkClient.open(o));
  }

  close(): void {
    this.netlink.close();
  }

  // ---------------------------------------------------------------- links
  async listLinks(): Promise<Link[]> {
    const r = await this.netlink.dump(R.RTM_GETLINK, [ifinfomsg()], { operation: 'rtnetlink GETLINK dump' });
    return r.messages.filter((m) => m.type === R.RTM_NEWLINK).map(decodeLink);
  }

  /** The link called `name`, or null (ENODEV). */
  async getLink(name: string): Promise<Link | null> {
    try {
      const r = await this.netlink.request(R.RTM_GETLINK, [ifinfomsg(), attrString(R.IFLA_IFNAME, name)], { operation: 'rtnetlink GETLINK', object: `link ${name}` });
      const m = r.find((x) => x.type === R.RTM_NEWLINK);
      return m ? decodeLink(m) : null;
    } catch (e) {
      if ((e as { errno?: number }).errno === 19) return null;
      throw e;
    }
  }

  async requireLink(name: string): Promise<Link> {
    const l = await this.getLink(name);
    if (!l) throw new Error(`link ${name}: no such device`);
    return l;
  }

  async createVeth(name: string, peerName: string, opts: { peerNetnsFd?: number } = {}): Promise<void> {
    await this.netlink.request(R.RTM_NEWLINK, vethPayload(name, peerName, opts.peerNetnsFd), { operation: 'rtnetlink NEWLINK', object: `veth ${name} peer ${peerName}` }, CREATE);
  }

  async createIp6Tunnel(name: string, o: Ip6TunnelOptions): Promise<void> {
    await this.netlink.request(R.RTM_NEWLINK, ip6TunnelPayload(name, o), { operation: 'rtnetlink NEWLINK', object: `ip6tnl ${name} ${o.local} -> ${o.remote}`, fixedLength: IFINFOMSG_SIZE }, CREATE);
  }

  /** Move an existing ip6tnl's endpoints (no CREATE flags: a modification). */
  async changeIp6Tunnel(name: string, o: Ip6TunnelOptions): Promise<void> {
    const index = await this.indexOf(name);
    await this.netlink.request(R.RTM_NEWLINK, ip6TunnelChangePayload(index, o), { operation: 'rtnetlink NEWLINK (change)', object: `ip6tnl ${name} ${o.local} -> ${o.remote}`, fixedLength: IFINFOMSG_SIZE });
  }

  async createXfrmInterface(name: string, ifId: number, link?: number): Promise<void> {
    await this.netlink.request(R.RTM_NEWLINK, xfrmInterfacePayload(name, ifId, link), { operation: 'rtnetlink NEWLINK', object: `xfrm interface ${name} if_id ${ifId}`, fixedLength: IFINFOMSG_SIZE }, CREATE);
  }

  async setLinkUp(link: string | number, up = true): Promise<void> {
    const index = await this.indexOf(link);
    await this.netlink.request(R.RTM_NEWLINK, [ifinfomsg(index, up ? R.IFF_UP : 0, R.IFF_UP)], { operation: 'rtnetlink NEWLINK', object: `link ${link} ${up ? 'up' : 'down'}` });
  }

  async deleteLink(link: string | number): Promise<void> {
    const index = await this.indexOf(link);
    await this.netlink.request(R.RTM_DELLINK, [ifinfomsg(index)], { operation: 'rtnetlink DELLINK', object: `link ${link}` });
  }

  private async indexOf(link: string | number): Promise<number> {
    return typeof link === 'number' ? link : (await this.requireLink(link)).index;
  }

  // ---------------------------------------------------------------- addresses
  async addAddress(a: AddressSpec): Promise<void> {
    await this.netlink.request(R.RTM_NEWADDR, addressPayload(a), { operation: 'rtnetlink NEWADDR', object: `address ${a.address}/${a.prefixlen} on ifindex ${a.ifindex}`, fixedLength: IFADDRMSG_SIZE }, CREATE);
  }

  async deleteAddress(a: AddressSpec): Promise<void> {
    await this.netlink.request(R.RTM_DELADDR, addressPayload(a), { operation: 'rtnetlink DELADDR', object: `address ${a.address}/${a.prefixlen} on ifindex ${a.ifindex}` });
  }

  async listAddresses(opts: { family?: number; ifindex?: number } = {}): Promise<Address[]> {
    const r = await this.netlink.dump(R.RTM_GETADDR, [ifaddrmsg(opts.family ?? 0)], { operation: 'rtnetlink GETADDR dump' });
    const all = r.messages.filter((m) => m.type === R.RTM_NEWADDR).map(decodeAddress);
    return all.filter((a) => (opts.ifindex === undefined || a.ifindex === opts.ifindex) && (opts.family === undefined || a.family === opts.family));
  }

  // ---------------------------------------------------------------- routes
  async addRoute(r: RouteSpec, opts: { replace?: boolean } = {}): Promise<void> {
    const flags = opts.replace ? NLM_F_CREATE | NLM_F_REPLACE : CREATE;
    await this.netlink.request(R.RTM_NEWROUTE, routePayload(r), { operation: 'rtnetlink NEWROUTE', object: `route ${r.dst}/${r.dstLen} table ${r.table ?? R.RT_TABLE_MAIN}`, fixedLength: RTMSG_SIZE }, flags);
  }

  async deleteRoute(r: RouteSpec): Promise<void> {
    await this.netlink.request(R.RTM_DELROUTE, routePayload(r, true), { operation: 'rtnetlink DELROUTE', object: `route ${r.dst}/${r.dstLen} table ${r.table ?? R.RT_TABLE_MAIN}`, fixedLength: RTMSG_SIZE });
  }

  /** What the kernel would do to reach q.dst (oif, gateway, preferred source, table). */
  async getRoute(q: RouteQuery): Promise<Route> {
    const r = await this.netlink.request(R.RTM_GETROUTE, routeQueryPayload(q), { operation: 'rtnetlink GETROUTE', object: `route to ${q.dst}`, fixedLength: RTMSG_SIZE });
    const m = r.find((x) => x.type === R.RTM_NEWROUTE);
    if (!m) throw new Error(`rtnetlink GETROUTE route to ${q.dst}: the kernel acknowledged without a route`);
    return decodeRoute(m);
  }

  async listRoutes(opts: { family?: number; table?: number } = {}): Promise<Route[]> {
    const r = await this.netlink.dump(R.RTM_GETROUTE, [rtmsg(opts.family ?? AF_INET6)], { operation: 'rtnetlink GETROUTE dump' });
    const all = r.messages.filter((m) => m.type === R.RTM_NEWROUTE).map(decodeRoute);
    return opts.table === undefined ? all : all.filter((x) => x.table === opts.table);
  }

  // ---------------------------------------------------------------- rules
  async addRule(r: RuleSpec): Promise<void> {
    await this.netlink.request(R.RTM_NEWRULE, rulePayload(r), { operation: 'rtnetlink NEWRULE', object: `rule from ${r.src ?? 'all'} lookup ${r.table}`, fixedLength: FIB_RULE_HDR_SIZE }, CREATE);
  }

  async deleteRule(r: RuleSpec): Promise<void> {
    await this.netlink.request(R.RTM_DELRULE, rulePayload(r), { operation: 'rtnetlink DELRULE', object: `rule from ${r.src ?? 'all'} lookup ${r.table}`, fixedLength: FIB_RULE_HDR_SIZE });
  }

  async listRules(family = AF_INET6): Promise<Rule[]> {
    const r = await this.netlink.dump(R.RTM_GETRULE, ruleDumpPayload(family), { operation: 'rtnetlink GETRULE dump' });
    return r.messages.filter((m) => m.type === R.RTM_NEWRULE).map(decodeRule);
  }

  // ---------------------------------------------------------------- neighbours
  async addNeighbour(n: NeighbourSpec): Promise<void> {
    await this.netlink.request(R.RTM_NEWNEIGH, neighbourPayload(n), { operation: 'rtnetlink NEWNEIGH', object: `${n.proxy ? 'proxy ' : ''}neighbour ${n.dst} on ifindex ${n.ifindex}`, fixedLength: NDMSG_SIZE }, CREATE);
  }

  async deleteNeighbour(n: NeighbourSpec): Promise<void> {
    await this.netlink.request(R.RTM_DELNEIGH, neighbourPayload(n), { operation: 'rtnetlink DELNEIGH', object: `${n.proxy ? 'proxy ' : ''}neighbour ${n.dst} on ifindex ${n.ifindex}`, fixedLength: NDMSG_SIZE });
  }

  /** Neighbour entries; with proxy: true the proxy (NTF_PROXY) table instead. */
  async listNeighbours(opts: { family?: number; proxy?: boolean } = {}): Promise<Neighbour[]> {
    const r = await this.netlink.dump(R.RTM_GETNEIGH, [ndmsg(opts.family ?? AF_INET6, 0, 0, opts.proxy ? R.NTF_PROXY : 0)], { operation: 'rtnetlink GETNEIGH dump' });
    return r.messages.filter((m) => m.type === R.RTM_NEWNEIGH).map(decodeNeighbour);
  }
}

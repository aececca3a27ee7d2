// The standard IRO topology: every link meets one router, which therefore has a connected
// route to every prefix (including the home prefix that holds the HoAs).
//
//   [ha]--home--+            +--foreignA--[mn] (fa, attached at start)
//   [cnHome]----+--[router]--+--foreignB--[mn] (fb, down until the MN moves)
//                    |       +--cn--------[cn]
//                    +-- home2--[ha2], foreign2--[mn2]   (optional second MN)
//
// The MN's HoA is deliberately not configured anywhere: putting it on a tunnel device and
// adding the `from HoA lookup T` rules is what the daemon (or a scenario) does.
import { create } from './create.ts';
import type { Host } from './host.ts';
import type { HostSpec, LinkEnd, LinkSpec, NetemSpec, TopologySpec } from './spec.ts';
import type { Topology } from './topology.ts';
import { addrArgs, linkUpDown, routeArgs } from './commands.ts';

export type IroHost = 'mn' | 'ha' | 'cn' | 'router' | 'cnHome' | 'mn2' | 'ha2';
export type IroLink = 'home' | 'foreignA' | 'foreignB' | 'cn' | 'home2' | 'foreign2';
export type ForeignLink = 'A' | 'B';

/** Interface names: the same on both ends of a link (each end lives in its own namespace). */
export const IRO_IFNAMES: Readonly<Record<IroLink, string>> = {
  home: 'home',
  foreignA: 'fa',
  foreignB: 'fb',
  cn: 'cn',
  home2: 'home2',
  foreign2: 'f2',
};

/** /64 prefixes from the documentation range (RFC 3849). */
export const IRO_PREFIXES: Readonly<Record<IroLink, string>> = {
  home: '2001:db8:1::/64',
  home2: '2001:db8:2::/64',
  foreignA: '2001:db8:a::/64',
  foreignB: '2001:db8:b::/64',
  cn: '2001:db8:c::/64',
  foreign2: '2001:db8:d::/64',
};

export interface IroTopologyOptions {
  /** a second correspondent on the home link (the home link becomes multi-access) */
  cnOnHomeLink?: boolean;
  /** a second MN on its own foreign link, with its own HA (home2) or sharing the HA */
  mn2?: false | { ha: 'own' | 'shared' };
  /** where the MN starts; default A */
  mnOn?: ForeignLink;
  /** netem on every end of a link (both directions: RTT across it grows by 2x delay) */
  netem?: Partial<Record<IroLink, NetemSpec>>;
  /** additions per host (sysctls, routes, rules, loopback addresses) */
  hosts?: Partial<Record<IroHost, HostSpec>>;
  /** namespace prefix; default "iro" */
  prefix?: string;
}

export interface IroAddresses {
  prefixes: Partial<Record<IroLink, string>> & Record<'home' | 'foreignA' | 'foreignB' | 'cn', string>;
  /** the router's address on each link (every host's default gateway) */
  router: Partial<Record<IroLink, string>> & Record<'home' | 'foreignA' | 'foreignB' | 'cn', string>;
  ha: string;
  cn: string;
  cnHome?: string;
  ha2?: string;
  mn: { hoa: string; coaA: string; coaB: string; homePrefix: string };
  mn2?: { hoa: string; coa: string; ha: string; homePrefix: string };
}

export interface IroExtras {
  addr: IroAddresses;
  ifnames: typeof IRO_IFNAMES;
  mn: Host;
  ha: Host;
  cn: Host;
  router: Host;
  cnHome?: Host;
  mn2?: Host;
  ha2?: Host;
  /** the foreign link the MN is attached to now */
  mnAttachment(): ForeignLink;
  /** the MN's current care-of address */
  mnCoa(): string;
  /** the foreign link's name for A/B ('foreignA' / 'foreignB') */
  foreignLink(which: ForeignLink): 'foreignA' | 'foreignB';
  /**
   * Move the MN (break before make): on the old link remove the default route and the CoA and
   * take the interface down; on the new one bring the interface up, add the CoA (nodad) and a
   * default route via the router. One `ip -batch` in the MN's namespace.
   */
  moveMn(to: ForeignLink): void;
}

export type IroTopology = Topology<IroHost> & IroExtras;

const at = (prefix: string, host: number) => `${prefix.split('::/')[0]}::${host.toString(16)}`;
const len = (prefix: string) => prefix.split('/')[1]!;

export function iroAddresses(opts: IroTopologyOptions = {}): IroAddresses {
  const P = IRO_PREFIXES;
  const a: IroAddresses = {
    prefixes: { home: P.home, foreignA: P.foreignA, foreignB: P.foreignB, cn: P.cn },
    router: { home: at(P.home, 1), foreignA: at(P.foreignA, 1), foreignB: at(P.foreignB, 1), cn: at(P.cn, 1) },
    ha: at(P.home, 2),
    cn: at(P.cn, 0x10),
    mn: { hoa: at(P.home, 0x100), coaA: at(P.foreignA, 0x100), coaB: at(P.foreignB, 0x100), homePrefix: P.home },
  };
  if (opts.cnOnHomeLink) a.cnHome = at(P.home, 0x20);
  if (opts.mn2) {
    a.prefixes.foreign2 = P.foreign2;
    a.router.foreign2 = at(P.foreign2, 1);
    if (opts.mn2.ha === 'own') {
      a.prefixes.home2 = P.home2;
      a.router.home2 = at(P.home2, 1);
      a.ha2 = at(P.home2, 2);
      a.mn2 = { hoa: at(P.home2, 0x100), coa: at(P.foreign2, 0x100), ha: a.ha2, homePrefix: P.home2 };
    } else {
      a.mn2 = { hoa: at(P.home, 0x101), coa: at(P.foreign2, 0x100), ha: a.ha, homePrefix: P.home };
    }
  }
  return a;
}

/** The declarative description of the IRO topology (what iroTopology() creates). */
export function iroTopologySpec(opts: IroTopologyOptions = {}): TopologySpec<IroHost> {
  const a = iroAddresses(opts);
  const P = IRO_PREFIXES;
  const I = IRO_IFNAMES;
  const mnOn = opts.mnOn ?? 'A';
  const netem = opts.netem ?? {};
  const end = (link: IroLink, host: IroHost, addr: string | null, up = true): LinkEnd<IroHost> => {
    const e: LinkEnd<IroHost> = { host, ifname: I[link], addrs: addr ? [`${addr}/${len(P[link])}`] : [], up };
    if (netem[link]) e.netem = netem[link];
    return e;
  };
  const defaultVia = (via: string, dev: string) => ({ dst: 'default', via, dev });

  const hosts: Partial<Record<IroHost, HostSpec>> = {
    router: { router: true },
    ha: { router: true, routes: [defaultVia(a.router.home, I.home)] },
    cn: { routes: [defaultVia(a.router.cn, I.cn)] },
    mn: { routes: [mnOn === 'A' ? defaultVia(a.router.foreignA, I.foreignA) : defaultVia(a.router.foreignB, I.foreignB)] },
  };
  const links: LinkSpec<IroHost>[] = [
    { name: 'home', ends: [end('home', 'router', a.router.home), end('home', 'ha', a.ha), ...(a.cnHome ? [end('home', 'cnHome', a.cnHome)] : [])] },
    { name: 'foreignA', ends: [end('foreignA', 'router', a.router.foreignA), end('foreignA', 'mn', mnOn === 'A' ? a.mn.coaA : null, mnOn === 'A')] },
    { name: 'foreignB', ends: [end('foreignB', 'router', a.router.foreignB), end('foreignB', 'mn', mnOn === 'B' ? a.mn.coaB : null, mnOn === 'B')] },
    { name: 'cn', ends: [end('cn', 'router', a.router.cn), end('cn', 'cn', a.cn)] },
  ];
  if (a.cnHome) hosts.cnHome = { routes: [defaultVia(a.router.home, I.home)] };
  if (a.mn2) {
    hosts.mn2 = { routes: [defaultVia(a.router.foreign2!, I.foreign2)] };
    links.push({ name: 'foreign2', ends: [end('foreign2', 'router', a.router.foreign2!), end('foreign2', 'mn2', a.mn2.coa)] });
    if (a.ha2) {
      hosts.ha2 = { router: true, routes: [defaultVia(a.router.home2!, I.home2)] };
      links.push({ name: 'home2', ends: [end('home2', 'router', a.router.home2!), end('home2', 'ha2', a.ha2)] });
    }
  }
  for (const [h, extra] of Object.entries(opts.hosts ?? {}) as Array<[IroHost, HostSpec]>) {
    const base = hosts[h];
    if (!base) throw new Error(`iroTopology: options.hosts.${h} given but host ${h} is not in this topology`);
    hosts[h] = {
      router: extra.router ?? base.router,
      sysctls: { ...base.sysctls, ...extra.sysctls },
      routes: [...(base.routes ?? []), ...(extra.routes ?? [])],
      rules: [...(base.rules ?? []), ...(extra.rules ?? [])],
      loopback: [...(base.loopback ?? []), ...(extra.loopback ?? [])],
    };
  }
  const spec: TopologySpec<IroHost> = { hosts: hosts as Record<IroHost, HostSpec>, links };
  if (opts.prefix !== undefined) spec.prefix = opts.prefix;
  return spec;
}

export async function iroTopology(opts: IroTopologyOptions = {}): Promise<IroTopology> {
  const topo = await create(iroTopologySpec(opts));
  const addr = iroAddresses(opts);
  let attached: ForeignLink = opts.mnOn ?? 'A';
  const foreignLink = (w: ForeignLink): 'foreignA' | 'foreignB' => (w === 'A' ? 'foreignA' : 'foreignB');
  const coaOf = (w: ForeignLink) => (w === 'A' ? addr.mn.coaA : addr.mn.coaB);
  const has = (h: IroHost) => Object.prototype.hasOwnProperty.call(topo.hosts, h);
  const extras: IroExtras = {
    addr,
    ifnames: IRO_IFNAMES,
    mn: topo.host('mn'),
    ha: topo.host('ha'),
    cn: topo.host('cn'),
    router: topo.host('router'),
    ...(has('cnHome') ? { cnHome: topo.host('cnHome') } : {}),
    ...(has('mn2') ? { mn2: topo.host('mn2') } : {}),
    ...(has('ha2') ? { ha2: topo.host('ha2') } : {}),
    mnAttachment: () => attached,
    mnCoa: () => coaOf(attached),
    foreignLink,
    moveMn(to: ForeignLink) {
      if (to === attached) return;
      const from = attached;
      const fromIf = IRO_IFNAMES[foreignLink(from)];
      const toIf = IRO_IFNAMES[foreignLink(to)];
      const plen = len(IRO_PREFIXES[foreignLink(to)]);
      topo.host('mn').applySync([
        routeArgs('del', { dst: 'default', via: addr.router[foreignLink(from)], dev: fromIf }),
        addrArgs('del', `${coaOf(from)}/${len(IRO_PREFIXES[foreignLink(from)])}`, fromIf),
        linkUpDown(fromIf, false),
        linkUpDown(toIf, true),
        addrArgs('add', `${coaOf(to)}/${plen}`, toIf),
        routeArgs('add', { dst: 'default', via: addr.router[foreignLink(to)], dev: toIf }),
      ]);
      attached = to;
    },
  };
  return Object.assign(topo, extras);
}

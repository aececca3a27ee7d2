// The declarative description of a topology, and its validation (pure: no kernel access).
// A link with two ends is a veth pair; a link with more ends is a bridge ("switch") living
// in a namespace of its own, with one veth per end, so a link can be multi-access (e.g. a
// home link with the HA, the router and a CN).
import { isIPv6 } from 'node:net';
import { checkHostName, checkIfname } from './names.ts';

/** Impairment on the egress of one link end (so: one direction). Needs sch_netem. */
export interface NetemSpec {
  delayMs?: number;
  jitterMs?: number;
  lossPercent?: number;
  /** tc rate syntax, e.g. "10mbit", "512kbit" */
  rate?: string;
}

export interface RouteSpec {
  /** "default" or a prefix ("2001:db8:1::/64") or an address */
  dst: string;
  via?: string;
  dev?: string;
  /** routing table (number or "main"); default main */
  table?: number | 'main';
  /** preferred source address */
  src?: string;
  metric?: number;
  /** unicast (default) or a special route type */
  type?: 'unicast' | 'unreachable' | 'blackhole' | 'prohibit' | 'local';
}

/** `ip -6 rule add [from X] [to Y] [iif I] [oif O] [fwmark M] lookup T [priority P]` */
export interface RuleSpec {
  from?: string;
  to?: string;
  iif?: string;
  oif?: string;
  fwmark?: number | string;
  table: number | 'main' | 'local';
  priority?: number;
}

export interface HostSpec {
  /** IPv6 forwarding on (net.ipv6.conf.all.forwarding=1) */
  router?: boolean;
  /** extra sysctls set inside the host's namespace after its interfaces exist */
  sysctls?: Record<string, string | number>;
  routes?: RouteSpec[];
  rules?: RuleSpec[];
  /** addresses on the loopback device (CIDR; /128 if no length) */
  loopback?: string[];
}

export interface LinkEnd<H extends string = string> {
  host: H;
  ifname: string;
  /** IPv6 addresses in CIDR form; added with nodad */
  addrs?: string[];
  /** admin state after creation; default true */
  up?: boolean;
  mtu?: number;
  /** impairment on this end's egress (traffic leaving `host` on this link) */
  netem?: NetemSpec;
}

export interface LinkSpec<H extends string = string> {
  name: string;
  ends: LinkEnd<H>[];
}

export interface TopologySpec<H extends string = string> {
  /** namespace name prefix; default "iro" */
  prefix?: string;
  hosts: Record<H, HostSpec>;
  links: LinkSpec<H>[];
}

/** "2001:db8::1/64" -> ok; "2001:db8::1" -> "/128" added. Throws naming `what`. */
export function normalizeCidr(what: string, text: string): string {
  const [addr, len, extra] = text.split('/');
  if (extra !== undefined || !addr || !isIPv6(addr) || addr.includes('%'))
    throw new Error(`${what}: "${text}" is not an IPv6 address with an optional prefix length`);
  if (len === undefined) return `${addr}/128`;
  if (!/^\d{1,3}$/.test(len) || Number(len) > 128) throw new Error(`${what}: "${text}" has an invalid prefix length`);
  return `${addr}/${len}`;
}

function checkPrefixOrAddr(what: string, text: string): void {
  if (text === 'default') return;
  normalizeCidr(what, text);
}

function checkAddr(what: string, text: string): void {
  if (!isIPv6(text) || text.includes('%')) throw new Error(`${what}: "${text}" is not an IPv6 address`);
}

export function checkNetem(what: string, n: NetemSpec): void {
  const nonNeg = (k: keyof NetemSpec, v: number | undefined, max: number) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= max)) throw new Error(`${what}: netem ${k} ${v} is out of range [0, ${max}]`);
  };
  nonNeg('delayMs', n.delayMs, 60_000);
  nonNeg('jitterMs', n.jitterMs, 60_000);
  nonNeg('lossPercent', n.lossPercent, 100);
  if (n.jitterMs && !n.delayMs) throw new Error(`${what}: netem jitter needs a delay`);
  if (n.rate !== undefined && !/^\d+(\.\d+)?([kmgt]?(bit|bps))$/i.test(n.rate)) throw new Error(`${what}: netem rate "${n.rate}" is not a tc rate (e.g. 10mbit)`);
  if (n.delayMs === undefined && n.lossPercent === undefined && n.rate === undefined) throw new Error(`${what}: netem spec sets nothing`);
}

export function checkRoute(what: string, r: RouteSpec): void {
  checkPrefixOrAddr(`${what} dst`, r.dst);
  if (r.via !== undefined) checkAddr(`${what} via`, r.via);
  if (r.src !== undefined) checkAddr(`${what} src`, r.src);
  if (r.table !== undefined && r.table !== 'main' && !(Number.isInteger(r.table) && r.table > 0 && r.table < 2 ** 32))
    throw new Error(`${what}: table ${r.table} is not a table number`);
  if ((r.type ?? 'unicast') === 'unicast' && r.via === undefined && r.dev === undefined)
    throw new Error(`${what}: a unicast route needs "via" or "dev"`);
}

export function checkRule(what: string, r: RuleSpec): void {
  if (r.from !== undefined) checkPrefixOrAddr(`${what} from`, r.from);
  if (r.to !== undefined) checkPrefixOrAddr(`${what} to`, r.to);
  if (typeof r.table === 'number' && !(Number.isInteger(r.table) && r.table > 0)) throw new Error(`${what}: table ${r.table} is not a table number`);
  if (r.priority !== undefined && !(Number.isInteger(r.priority) && r.priority >= 0)) throw new Error(`${what}: priority ${r.priority} is invalid`);
}

/** Throws the first problem found, naming the host/link concerned. Nothing is created before this passes. */
export function validateSpec<H extends string>(spec: TopologySpec<H>): void {
  const hostNames = Object.keys(spec.hosts) as H[];
  if (!hostNames.length) throw new Error('topology has no hosts');
  for (const h of hostNames) checkHostName(h);
  const ifnames = new Map<string, Set<string>>(hostNames.map((h) => [h, new Set<string>()]));
  const linkNames = new Set<string>();
  for (const link of spec.links) {
    const lw = `link ${link.name}`;
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(link.name)) throw new Error(`${lw}: name must be 1-32 of [A-Za-z0-9_-]`);
    if (linkNames.has(link.name)) throw new Error(`${lw}: defined twice`);
    linkNames.add(link.name);
    if (link.ends.length < 2) throw new Error(`${lw}: needs at least two ends, has ${link.ends.length}`);
    for (const end of link.ends) {
      const set = ifnames.get(end.host);
      if (!set) throw new Error(`${lw}: host "${end.host}" is not declared in hosts`);
      checkIfname(end.host, end.ifname);
      if (set.has(end.ifname)) throw new Error(`${lw}: host ${end.host} already has an interface "${end.ifname}"`);
      set.add(end.ifname);
      const ew = `${lw}, ${end.host}/${end.ifname}`;
      for (const a of end.addrs ?? []) normalizeCidr(`${ew} address`, a);
      if (end.mtu !== undefined && !(Number.isInteger(end.mtu) && end.mtu >= 1280 && end.mtu <= 65535))
        throw new Error(`${ew}: mtu ${end.mtu} is outside [1280, 65535] (IPv6 needs 1280)`);
      if (end.netem) checkNetem(ew, end.netem);
    }
  }
  for (const h of hostNames) {
    const hs = spec.hosts[h];
    (hs.routes ?? []).forEach((r, i) => {
      checkRoute(`host ${h}, route ${i + 1} (${r.dst})`, r);
      if (r.dev !== undefined && !ifnames.get(h)!.has(r.dev) && r.dev !== 'lo')
        throw new Error(`host ${h}, route ${i + 1} (${r.dst}): device "${r.dev}" is not an interface of ${h}`);
    });
    (hs.rules ?? []).forEach((r, i) => checkRule(`host ${h}, rule ${i + 1}`, r));
    for (const a of hs.loopback ?? []) normalizeCidr(`host ${h}, loopback address`, a);
    for (const k of Object.keys(hs.sysctls ?? {}))
      if (!/^[a-z0-9_]+[./][A-Za-z0-9_./-]+$/.test(k) || k.includes('..')) throw new Error(`host ${h}: "${k}" is not a sysctl name`);
  }
}

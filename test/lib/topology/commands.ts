// Pure builders of iproute2 / tc argument lists. The same lists serve single commands
// (`ip -6 -n NS ...args`) and batch lines (`ip -6 -n NS -batch -`). Device names always follow
// `dev`/`name`, because bare words like "a" are parsed by ip as keyword abbreviations.
import type { NetemSpec, RouteSpec, RuleSpec } from './spec.ts';

export type Args = string[];

export function batchText(lines: Args[]): string {
  return lines
    .map((l) => {
      for (const a of l) if (!a || /\s|["'\\#]/.test(a)) throw new Error(`batch argument "${a}" is empty or has characters ip -batch would split on`);
      return l.join(' ');
    })
    .join('\n') + '\n';
}

export function namespaceAdd(ns: string): Args {
  return ['netns', 'add', ns];
}

/**
 * The two ends get different ifindexes on purpose: namespaces number their interfaces
 * independently, and a veth whose ifindex equals its peer's (both 2, say) is not treated as
 * "urgent" by the kernel's linkwatch, so its carrier-up event — and with it IPv6 readiness
 * (multicast routes, so ND) — is delayed by up to a second. Indexes are omitted when null.
 */
export function vethPair(nsA: string, ifA: string, nsB: string, ifB: string, indexA: number | null = null, indexB: number | null = null): Args {
  const idx = (i: number | null) => (i === null ? [] : ['index', String(i)]);
  return ['link', 'add', 'name', ifA, ...idx(indexA), 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, ...idx(indexB), 'netns', nsB];
}

/** Snooping off: with no querier on the link, ND's multicast must simply flood. */
export function bridgeAdd(ns: string, br: string, index: number | null = null): Args {
  return ['link', 'add', 'name', br, ...(index === null ? [] : ['index', String(index)]), 'netns', ns, 'type', 'bridge', 'mcast_snooping', '0'];
}

export function linkMaster(dev: string, master: string): Args {
  return ['link', 'set', 'dev', dev, 'master', master];
}

export function linkUpDown(dev: string, up: boolean): Args {
  return ['link', 'set', 'dev', dev, up ? 'up' : 'down'];
}

export function linkMtu(dev: string, mtu: number): Args {
  return ['link', 'set', 'dev', dev, 'mtu', String(mtu)];
}

/** nodad: the address is usable at once (no DAD wait, no "tentative" source address). */
export function addrArgs(verb: 'add' | 'del', cidr: string, dev: string): Args {
  return ['addr', verb, cidr, 'dev', dev, ...(verb === 'add' ? ['nodad'] : [])];
}

export function routeArgs(verb: 'add' | 'del' | 'replace', r: RouteSpec): Args {
  const a: Args = ['route', verb];
  if (r.type && r.type !== 'unicast') a.push(r.type);
  a.push(r.dst);
  if (r.via !== undefined) a.push('via', r.via);
  if (r.dev !== undefined) a.push('dev', r.dev);
  if (r.table !== undefined) a.push('table', String(r.table));
  if (r.src !== undefined) a.push('src', r.src);
  if (r.metric !== undefined) a.push('metric', String(r.metric));
  return a;
}

export function ruleArgs(verb: 'add' | 'del', r: RuleSpec): Args {
  const a: Args = ['rule', verb];
  if (r.priority !== undefined) a.push('priority', String(r.priority));
  if (r.from !== undefined) a.push('from', r.from);
  if (r.to !== undefined) a.push('to', r.to);
  if (r.iif !== undefined) a.push('iif', r.iif);
  if (r.oif !== undefined) a.push('oif', r.oif);
  if (r.fwmark !== undefined) a.push('fwmark', String(r.fwmark));
  a.push('lookup', String(r.table));
  return a;
}

/** tc arguments for a root netem qdisc on `dev` (egress). */
export function netemArgs(verb: 'add' | 'replace', dev: string, n: NetemSpec): Args {
  const a: Args = ['qdisc', verb, 'dev', dev, 'root', 'netem'];
  if (n.delayMs !== undefined) {
    a.push('delay', `${n.delayMs}ms`);
    if (n.jitterMs) a.push(`${n.jitterMs}ms`);
  }
  if (n.lossPercent !== undefined) a.push('loss', `${n.lossPercent}%`);
  if (n.rate !== undefined) a.push('rate', n.rate);
  return a;
}

export function qdiscDelRoot(dev: string): Args {
  return ['qdisc', 'del', 'dev', dev, 'root'];
}

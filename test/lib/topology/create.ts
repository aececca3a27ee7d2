// Building a topology from its description with iproute2, in few processes (each `ip` costs
// ~3 ms on the host but ~0.3 s in the TCG guest, so the count matters):
//   1. one `ip -batch` adds every namespace (all registered for cleanup before they exist) and
//      creates every veth directly in its two namespaces (and the bridges);
//   2. sysctls are written in-process (src/kernel/netns.ts): DAD, RA and router solicitations
//      off per interface *before* any interface is up, the same as namespace defaults for
//      interfaces made later (tunnels), forwarding on routers;
//   3. per host, in parallel: one `ip -6 -batch` (lo, addresses with nodad, links up, routes,
//      rules), the host's extra sysctls, then its netem qdiscs.
// Any failure removes every namespace made so far and rethrows, naming the step.
import { batch, batchSync } from './batch.ts';
import { registerOwner } from './cleanup.ts';
import { addrArgs, bridgeAdd, linkMaster, linkMtu, linkUpDown, namespaceAdd, routeArgs, ruleArgs, vethPair, type Args } from './commands.ts';
import { namespaceName, nextTopologyId } from './names.ts';
import { applyNetem } from './netem.ts';
import { normalizeCidr, validateSpec, type LinkEnd, type NetemSpec, type TopologySpec } from './spec.ts';
import { baseSysctls, interfaceSysctls, switchSysctls, writeSysctls } from './sysctl.ts';
import { Topology, type LinkInfo } from './topology.ts';

/** Host names start with a lower-case letter, so this can never clash with one. */
const SWITCH = '_switch';
/** Interfaces the kit creates are numbered from here; interfaces made later get the kernel's. */
const FIRST_IFINDEX = 10;

export class TopologyCreateError extends Error {
  constructor(id: string, step: string, cause: unknown, cleanupError?: Error) {
    const cleanup = cleanupError ? `; cleanup failed too: ${cleanupError.message}` : ' (its namespaces were removed)';
    super(`topology ${id}: ${step} failed: ${(cause as Error)?.message ?? String(cause)}${cleanup}`, { cause });
    this.name = 'TopologyCreateError';
  }
}

export async function create<H extends string>(spec: TopologySpec<H>): Promise<Topology<H>> {
  validateSpec(spec);
  const t0 = performance.now();
  const id = nextTopologyId(spec.prefix);
  const hostNames = Object.keys(spec.hosts) as H[];
  const nsOf = (h: H) => namespaceName(id, h);
  const multi = spec.links.filter((l) => l.ends.length > 2);
  const switchNs = multi.length ? namespaceName(id, SWITCH) : null;

  const owner = registerOwner();
  owner.namespaces.push(...hostNames.map(nsOf), ...(switchNs ? [switchNs] : []));

  // Interfaces per host, in link order.
  const endsOf = new Map<H, LinkEnd<H>[]>(hostNames.map((h) => [h, []]));
  const links = new Map<string, LinkInfo<H>>();
  const rootLines: Args[] = [];
  const switchLines: Args[] = [];
  const switchIfnames: string[] = [];
  // Distinct ifindexes across the whole topology (see vethPair) starting above lo's 1.
  let nextIndex = FIRST_IFINDEX;
  const index = () => nextIndex++;
  spec.links.forEach((link, li) => {
    for (const e of link.ends) endsOf.get(e.host)!.push(e);
    const info: LinkInfo<H> = { name: link.name, ends: link.ends.map((e) => ({ host: e.host, ifname: e.ifname })) };
    if (link.ends.length === 2) {
      const [a, b] = link.ends as [LinkEnd<H>, LinkEnd<H>];
      rootLines.push(vethPair(nsOf(a.host), a.ifname, nsOf(b.host), b.ifname, index(), index()));
    } else {
      const br = `br${li}`;
      info.bridge = { ns: switchNs!, ifname: br };
      rootLines.push(bridgeAdd(switchNs!, br, index()));
      switchIfnames.push(br);
      link.ends.forEach((e, ei) => {
        const port = `l${li}p${ei}`;
        rootLines.push(vethPair(nsOf(e.host), e.ifname, switchNs!, port, index(), index()));
        switchIfnames.push(port);
        switchLines.push(linkMaster(port, br), linkUpDown(port, true));
      });
      switchLines.push(linkUpDown(br, true));
    }
    links.set(link.name, info);
  });

  const topo = new Topology<H>(id, spec, nsOf, links, owner);
  let step = 'creating namespaces and links';
  try {
    batchSync('ip', null, [...owner.namespaces.map(namespaceAdd), ...rootLines], `topology ${id}`);

    step = 'setting sysctls';
    for (const h of hostNames) {
      const ifnames = endsOf.get(h)!.map((e) => e.ifname);
      writeSysctls(nsOf(h), [...baseSysctls(!!spec.hosts[h].router), ...ifnames.flatMap(interfaceSysctls)], `host ${h}`);
    }
    if (switchNs) writeSysctls(switchNs, switchSysctls(switchIfnames), 'switch');

    step = 'configuring hosts';
    // allSettled: nothing may still be configuring a namespace when cleanup removes it.
    const settled = await Promise.allSettled([
      ...(switchNs ? [batch('ip', switchNs, switchLines, `topology ${id} switch`)] : []),
      ...hostNames.map((h) => configureHost(h, nsOf(h), spec, endsOf.get(h)!)),
    ]);
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  } catch (e) {
    try {
      topo.destroySync();
    } catch (cleanup) {
      throw new TopologyCreateError(id, step, e, cleanup as Error);
    }
    throw new TopologyCreateError(id, step, e);
  }
  topo.creationMs = performance.now() - t0;
  return topo;
}

async function configureHost<H extends string>(h: H, ns: string, spec: TopologySpec<H>, ends: LinkEnd<H>[]): Promise<void> {
  const hs = spec.hosts[h];
  const where = `host ${h} (netns ${ns})`;
  const lines: Args[] = [linkUpDown('lo', true)];
  for (const a of hs.loopback ?? []) lines.push(addrArgs('add', normalizeCidr(`${where} loopback`, a), 'lo'));
  for (const e of ends) {
    if (e.mtu !== undefined) lines.push(linkMtu(e.ifname, e.mtu));
    for (const a of e.addrs ?? []) lines.push(addrArgs('add', normalizeCidr(`${where} ${e.ifname}`, a), e.ifname));
    if (e.up !== false) lines.push(linkUpDown(e.ifname, true));
  }
  for (const r of hs.routes ?? []) lines.push(routeArgs('add', r));
  for (const r of hs.rules ?? []) lines.push(ruleArgs('add', r));
  await batch('ip', ns, lines, where);
  writeSysctls(ns, Object.entries(hs.sysctls ?? {}), where);
  const netem: Array<[string, NetemSpec]> = ends.filter((e) => e.netem).map((e) => [e.ifname, e.netem!]);
  await applyNetem(ns, netem, where);
}

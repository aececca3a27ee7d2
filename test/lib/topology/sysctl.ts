// Sysctls inside a namespace, written in-process: /proc/sys/net resolves against the calling
// thread's network namespace, so a setns (src/kernel/netns.ts) replaces a `sysctl` process
// per host. Keys use dots (net.ipv6.conf.all.forwarding) or slashes when an interface name
// has a dot (net/ipv6/conf/eth0.5/forwarding).
import { readFileSync, writeFileSync } from 'node:fs';
import { inNetns } from '../../../src/kernel/netns.ts';

export function sysctlPath(key: string): string {
  if (!/^[a-z0-9_]+[./][A-Za-z0-9_./-]+$/.test(key) || key.includes('..')) throw new Error(`"${key}" is not a sysctl name`);
  return `/proc/sys/${key.includes('/') ? key : key.replace(/\./g, '/')}`;
}

export function writeSysctls(ns: string, entries: Array<[string, string | number]>, where: string): void {
  if (!entries.length) return;
  const paths = entries.map(([k, v]) => [k, sysctlPath(k), String(v)] as const);
  inNetns(ns, () => {
    for (const [k, p, v] of paths) {
      try {
        writeFileSync(p, v);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        throw new Error(`${where}: sysctl ${k}=${v}: ${err.code ?? ''} ${err.message}`.trim());
      }
    }
  });
}

export function readSysctl(ns: string, key: string, where: string): string {
  const p = sysctlPath(key);
  return inNetns(ns, () => {
    try {
      return readFileSync(p, 'utf8').trim();
    } catch (e) {
      throw new Error(`${where}: sysctl ${key}: ${(e as Error).message}`);
    }
  });
}

/** Namespace-wide: the defaults also reach interfaces created later (e.g. the daemon's tunnels). */
export function baseSysctls(router: boolean): Array<[string, string | number]> {
  const s: Array<[string, string | number]> = [];
  for (const scope of ['all', 'default']) {
    s.push([`net.ipv6.conf.${scope}.accept_dad`, 0], [`net.ipv6.conf.${scope}.dad_transmits`, 0], [`net.ipv6.conf.${scope}.accept_ra`, 0]);
    // Addresses survive `link set down` (a radio that loses its link keeps its CoA); the
    // kernel still drops routes through a downed device.
    s.push([`net.ipv6.conf.${scope}.keep_addr_on_down`, 1]);
    s.push([`net.ipv6.conf.${scope}.router_solicitations`, 0]);
  }
  if (router) s.push(['net.ipv6.conf.all.forwarding', 1]);
  return s;
}

/**
 * Per interface the kit created, written while it is still down: its link-local address is
 * made (and DAD'd, and router solicitations sent) only when it comes up.
 */
export function interfaceSysctls(ifname: string): Array<[string, string | number]> {
  const base = `net/ipv6/conf/${ifname}`;
  return [[`${base}/accept_dad`, 0], [`${base}/dad_transmits`, 0], [`${base}/accept_ra`, 0], [`${base}/router_solicitations`, 0], [`${base}/keep_addr_on_down`, 1]];
}

/** The namespace holding bridges: no IPv6 there, so it adds no packets (MLD, RS) to links. */
export function switchSysctls(ifnames: readonly string[]): Array<[string, string | number]> {
  return [
    ['net.ipv6.conf.all.disable_ipv6', 1],
    ['net.ipv6.conf.default.disable_ipv6', 1],
    ...ifnames.map((i): [string, number] => [`net/ipv6/conf/${i}/disable_ipv6`, 1]),
  ];
}

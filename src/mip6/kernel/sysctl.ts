// Writing IPv6 sysctls of the current network namespace (/proc/sys/net is per namespace: the
// opener's namespace counts, so this works inside inNetns).
import { readFileSync, writeFileSync } from 'node:fs';

export function setIpv6Conf(ifname: string, key: string, value: number | string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(ifname) || !/^[a-z_]+$/.test(key)) throw new Error(`bad sysctl name net.ipv6.conf.${ifname}.${key}`);
  writeFileSync(`/proc/sys/net/ipv6/conf/${ifname}/${key}`, String(value));
}

export function getIpv6Conf(ifname: string, key: string): string {
  return readFileSync(`/proc/sys/net/ipv6/conf/${ifname}/${key}`, 'utf8').trim();
}

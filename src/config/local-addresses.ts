// This node's own addresses according to its configuration: the ones SAs may start or end at.
import type { NodeConfig } from './types.ts';

/** MN: home addresses (and correspondent addresses, which are home addresses). CN: cn addresses. HA: ha.address. */
export function localAddresses(c: Pick<NodeConfig, 'role' | 'mn' | 'cn' | 'ha'>): string[] {
  const out = new Set<string>();
  if (c.role === 'mn') for (const a of c.mn?.homeAddresses ?? []) out.add(a);
  if (c.role !== 'ha') for (const a of c.cn?.addresses ?? []) out.add(a);
  if (c.role === 'ha' && c.ha) out.add(c.ha.address);
  out.delete('');
  return [...out];
}

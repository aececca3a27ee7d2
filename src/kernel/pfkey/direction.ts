// SA direction for PF_KEY SAs, which carry none (DIGEST OP-17, check D13): an explicit
// direction (XFRMA_SA_DIR or an override hook) wins; otherwise in = daddr is local (HoAs
// included), out = saddr is local; both local (netns tests) -> configuration, else unknown.
import { isIPv6 } from 'node:net';
import { formatIPv6, parseIPv6 } from '../../common/ipv6.ts';

export type SaDirection = 'in' | 'out';

export interface DirectionInput {
  src: string;
  dst: string;
  spi?: number;
  proto?: number;
}

export interface DirectionContext {
  /** local addresses, HoAs included */
  isLocal(address: string): boolean;
  /** XFRMA_SA_DIR-style hook: a direction known from elsewhere for this SA */
  override?(sa: DirectionInput): SaDirection | undefined;
  /** direction configured for SAs whose two ends are both local */
  configured?(sa: DirectionInput): SaDirection | undefined;
}

export type DirectionReason = 'explicit' | 'override' | 'dst-local' | 'src-local' | 'configured' | 'both-local' | 'neither-local';

export interface DirectionResult {
  dir: SaDirection | 'unknown';
  reason: DirectionReason;
}

/** `explicit` is the direction the source carried (XFRMA_SA_DIR), when it did. */
export function inferDirection(sa: DirectionInput, ctx: DirectionContext, explicit?: SaDirection): DirectionResult {
  if (explicit) return { dir: explicit, reason: 'explicit' };
  const o = ctx.override?.(sa);
  if (o) return { dir: o, reason: 'override' };
  const dstLocal = ctx.isLocal(sa.dst);
  const srcLocal = ctx.isLocal(sa.src);
  if (dstLocal && !srcLocal) return { dir: 'in', reason: 'dst-local' };
  if (srcLocal && !dstLocal) return { dir: 'out', reason: 'src-local' };
  if (dstLocal && srcLocal) {
    const c = ctx.configured?.(sa);
    return c ? { dir: c, reason: 'configured' } : { dir: 'unknown', reason: 'both-local' };
  }
  return { dir: 'unknown', reason: 'neither-local' };
}

function canonical(a: string): string {
  return isIPv6(a) ? formatIPv6(parseIPv6(a)) : a.trim();
}

/** isLocal over a fixed set of addresses, compared in canonical form. */
export function localAddressSet(addresses: Iterable<string>): (address: string) => boolean {
  const set = new Set<string>();
  for (const a of addresses) set.add(canonical(a));
  return (address: string) => set.has(canonical(address));
}

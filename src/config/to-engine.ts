// What the IRO engine and the MH codec take from the configuration: the peer table (PeerConfig,
// with the implicit peers of each role), the classes of statically keyed SAs, the node's home and
// local addresses, the MH type codes.
import { canonicalIPv6 } from '../common/ipv6.ts';
import type { PeerConfig, StaticClass } from '../iro/classify.ts';
import type { MhCodecConfigInput } from '../mip6/codec/config.ts';
import { localAddresses } from './local-addresses.ts';
import type { NodeConfig } from './types.ts';

/**
 * The configured peers, plus on an MN its home agent (kind ha; iro unless haMode is classic),
 * and on an HA its mobile nodes (kind mn; iro, or tunnel-only for classic-mode ones).
 */
export function toPeers(c: NodeConfig): PeerConfig[] {
  const out: PeerConfig[] = c.peers.map((p) => ({ address: p.address, kind: p.kind, mode: p.mode }));
  if (c.role === 'mn' && c.mn) out.push({ address: c.mn.homeAgent, kind: 'ha', mode: c.mn.haMode === 'iro' ? 'iro' : 'tunnel-only' });
  if (c.role === 'ha' && c.ha) for (const m of c.ha.mobileNodes) out.push({ address: m.homeAddress, kind: 'mn', mode: m.mode === 'iro' ? 'iro' : 'tunnel-only' });
  return out;
}

/** Classes of the transport-mode static SAs (tunnel SAs are never IRO-tracked, IRO App. H). */
export function toStaticClasses(c: NodeConfig): StaticClass[] {
  return c.ipsec.sas.filter((s) => s.mode === 'transport').map((s) => ({ spi: s.spi, proto: s.proto, daddr: s.dst, cls: s.cls }));
}

/** EngineOptions.hoas and .localAddrs. */
export function toEngineAddresses(c: NodeConfig): { hoas: string[]; localAddrs: string[] } {
  const hoas = c.role === 'mn' ? [...(c.mn?.homeAddresses ?? [])] : [];
  return { hoas, localAddrs: localAddresses(c).filter((a) => !hoas.includes(a)) };
}

/** The input of makeMhCodecConfig (OP-1, OP-2). */
export function toMhCodecInput(c: NodeConfig): MhCodecConfigInput {
  return { mhType: { ...c.iro.mhTypes }, nonceOptType: c.iro.nonceOptionType };
}

/** tunnelFallback of one peer (OP-20): its own setting, else the MN's default. */
export function tunnelFallbackOf(c: NodeConfig, address: string): 'allow' | 'deny' {
  return c.peers.find((p) => p.address === address)?.tunnelFallback ?? c.mn?.tunnelFallback ?? 'allow';
}

function canonical(a: string): string | undefined {
  try {
    return canonicalIPv6(a);
  } catch {
    return undefined;
  }
}

/** HAIPSEC P9, I02: may an IKE peer with this phase-1 identity create SAs for this home address? */
export function isIkeAuthorised(c: NodeConfig, homeAddress: string, identity: string): boolean {
  const hoa = canonical(homeAddress);
  const m = c.ha?.mobileNodes.find((x) => x.homeAddress === hoa);
  return m?.authorisation.kind === 'ike' && m.authorisation.identity === identity;
}

/** HAIPSEC P9: the SA names allowed to carry BUs for this home address (manual keying). */
export function authorisedSas(c: NodeConfig, homeAddress: string): string[] {
  const hoa = canonical(homeAddress);
  const m = c.ha?.mobileNodes.find((x) => x.homeAddress === hoa);
  return m?.authorisation.kind === 'sas' ? [...m.authorisation.sas] : [];
}

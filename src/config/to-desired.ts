// The configured SAs and policies as the pusher's input (DesiredIpsec). Reqids come from the
// owned range (reqids.ts) and every policy template carries its SA's reqid, so the kernel pairs
// them and ownership (OP-47) covers both.
import type { DesiredIpsec, Ownership, PushPolicy, PushSa } from '../ipsec/desired.ts';
import type { PolicyTemplate } from '../ipsec/model.ts';
import { SecretKey } from '../kernel/xfrm/secret-key.ts';
import { assignReqids, ownershipOf } from './reqids.ts';
import type { NodeConfig, SaConfig } from './types.ts';

function pushSa(sa: SaConfig, reqid: number): PushSa {
  const out: PushSa = { proto: sa.proto, spi: sa.spi, saddr: sa.src, daddr: sa.dst, mode: sa.mode, reqid, selector: { ...sa.selector } };
  if (sa.auth?.key) out.auth = { name: sa.auth.alg, key: sa.auth.key, truncBits: sa.auth.truncBits };
  // cipher_null has no key; the kernel still wants the (empty) algorithm
  if (sa.enc) out.crypt = { name: sa.enc.alg, key: sa.enc.key ?? SecretKey.from(Buffer.alloc(0)) };
  if (sa.aead?.key) out.aead = { name: sa.aead.alg, key: sa.aead.key, icvBits: sa.aead.icvBits };
  if (sa.lifetime && (sa.lifetime.soft !== undefined || sa.lifetime.hard !== undefined)) {
    out.lifetime = {};
    if (sa.lifetime.soft !== undefined) out.lifetime.softSeconds = sa.lifetime.soft;
    if (sa.lifetime.hard !== undefined) out.lifetime.hardSeconds = sa.lifetime.hard;
  }
  return out;
}

function template(sa: SaConfig, reqid: number): PolicyTemplate {
  // tunnel templates name the tunnel's ends; transport ones take the packet's addresses
  return sa.mode === 'tunnel' ? { proto: sa.proto, reqid, mode: 'tunnel', saddr: sa.src, daddr: sa.dst } : { proto: sa.proto, reqid, mode: 'transport' };
}

/** Static SAs plus the tunnel protection identities, so both draw reqids from one assignment. */
function withTunnelIds(c: NodeConfig): Array<Pick<SaConfig, 'name' | 'proto' | 'spi' | 'dst' | 'reqid'>> {
  return [
    ...c.ipsec.sas,
    ...c.haIpsecProfile
      .filter((s) => s.tunnel)
      .flatMap((s) => [
        { name: s.tunnel!.toHa.name, proto: 'esp' as const, spi: s.tunnel!.toHa.spi, dst: s.homeAgent, reqid: s.tunnel!.toHa.reqid },
        { name: s.tunnel!.toMn.name, proto: 'esp' as const, spi: s.tunnel!.toMn.spi, dst: `coa-of-${s.homeAddress}`, reqid: s.tunnel!.toMn.reqid },
      ]),
  ];
}

/** Throws if an SA has a reqid outside `ownership` or a policy names an unknown SA (loadConfig refuses both). */
export function toDesiredIpsec(c: NodeConfig, ownership: Ownership = ownershipOf(c)): DesiredIpsec {
  const reqids = assignReqids(withTunnelIds(c), ownership);
  const byName = new Map(c.ipsec.sas.map((s) => [s.name, s]));
  const sas = c.ipsec.sas.map((sa) => pushSa(sa, reqids.get(sa.name)!));
  const policies: PushPolicy[] = c.ipsec.policies.map((p) => {
    const sa = byName.get(p.sa);
    if (!sa) throw new Error(`policy ${p.dir} ${p.selector.src}/${p.selector.srcLen} -> ${p.selector.dst}/${p.selector.dstLen}: no SA named ${p.sa}`);
    return { dir: p.dir, selector: { ...p.selector }, priority: p.priority, templates: [template(sa, reqids.get(sa.name)!)] };
  });
  return { sas, policies };
}

/**
 * The design-A tunnel protection (DESIGN decision 7) for the given care-of addresses: ESP
 * transport on proto 41 between each CoA and the HA. `coaOf(hoa)` is the MN's own CoA on an MN,
 * the binding's CoA on an HA; null (at home, not registered) leaves that pair out. Reqids are
 * assigned together with the static SAs' (same range, no clash), from a stable identity.
 */
export function tunnelProtection(c: NodeConfig, coaOf: (hoa: string) => string | null, ownership: Ownership = ownershipOf(c)): DesiredIpsec {
  const sas: PushSa[] = [];
  const policies: PushPolicy[] = [];
  const pairs = c.haIpsecProfile.filter((s) => s.tunnel);
  if (!pairs.length) return { sas, policies };
  const reqids = assignReqids(withTunnelIds(c), ownership);
  for (const s of pairs) {
    const coa = coaOf(s.homeAddress);
    if (!coa) continue;
    const ha = s.homeAgent;
    const sel = (src: string, dst: string) => ({ src, dst, srcLen: 128, dstLen: 128, proto: 41 });
    for (const [t, saddr, daddr] of [[s.tunnel!.toHa, coa, ha], [s.tunnel!.toMn, ha, coa]] as const) {
      const reqid = reqids.get(t.name)!;
      const push: PushSa = { proto: 'esp', spi: t.spi, saddr, daddr, mode: 'transport', reqid, selector: sel(saddr, daddr) };
      if (t.auth?.key) push.auth = { name: t.auth.alg, key: t.auth.key, truncBits: t.auth.truncBits };
      if (t.enc) push.crypt = { name: t.enc.alg, key: t.enc.key ?? SecretKey.from(Buffer.alloc(0)) };
      if (t.aead?.key) push.aead = { name: t.aead.alg, key: t.aead.key, icvBits: t.aead.icvBits };
      if (t.lifetime) push.lifetime = { ...(t.lifetime.soft !== undefined ? { softSeconds: t.lifetime.soft } : {}), ...(t.lifetime.hard !== undefined ? { hardSeconds: t.lifetime.hard } : {}) };
      sas.push(push);
      const outbound = (saddr === coa) === (c.role === 'mn');
      policies.push({ dir: outbound ? 'out' : 'in', selector: sel(saddr, daddr), priority: 50, templates: [{ proto: 'esp', reqid, mode: 'transport' }] });
    }
  }
  return { sas, policies };
}

export function mergeDesired(...parts: DesiredIpsec[]): DesiredIpsec {
  return { sas: parts.flatMap((p) => p.sas), policies: parts.flatMap((p) => p.policies) };
}

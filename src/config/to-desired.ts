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

/** Throws if an SA has a reqid outside `ownership` or a policy names an unknown SA (loadConfig refuses both). */
export function toDesiredIpsec(c: NodeConfig, ownership: Ownership = ownershipOf(c)): DesiredIpsec {
  const reqids = assignReqids(c.ipsec.sas, ownership);
  const byName = new Map(c.ipsec.sas.map((s) => [s.name, s]));
  const sas = c.ipsec.sas.map((sa) => pushSa(sa, reqids.get(sa.name)!));
  const policies: PushPolicy[] = c.ipsec.policies.map((p) => {
    const sa = byName.get(p.sa);
    if (!sa) throw new Error(`policy ${p.dir} ${p.selector.src}/${p.selector.srcLen} -> ${p.selector.dst}/${p.selector.dstLen}: no SA named ${p.sa}`);
    return { dir: p.dir, selector: { ...p.selector }, priority: p.priority, templates: [template(sa, reqids.get(sa.name)!)] };
  });
  return { sas, policies };
}

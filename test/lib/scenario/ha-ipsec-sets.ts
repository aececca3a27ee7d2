// The HA-IPsec draft's manual-keying example sets (§4.2.1 BU/BA, §4.2.3 prefix discovery) as
// desired state for iro-ctl's pusher, on the mobile node or the home agent. Both nodes are
// built from one SaKeys table, so the two ends of each SA share its keys.
import { randomBytes } from 'node:crypto';
import { SecretKey } from '../../../src/kernel/xfrm/secret-key.ts';
import type { DesiredIpsec, PushPolicy, PushSa } from '../../../src/ipsec/desired.ts';
import { DEFAULT_OWNERSHIP } from '../../../src/ipsec/desired.ts';

export type HaIpsecSa = 'SA1' | 'SA2' | 'SA5' | 'SA6';
export type HaIpsecSection = '4.2.1' | '4.2.3';

export const MH = 135;
export const ICMPV6 = 58;

export interface HaIpsecParams {
  hoa: string;
  ha: string;
  /** spi_a, spi_b (SA1, SA2) and spi_e, spi_f (SA5, SA6) */
  spi: Record<HaIpsecSa, number>;
  /** first reqid; SA1, SA2, SA5, SA6 get base+1, +2, +5, +6 (inside iro-ctl's range) */
  reqidBase?: number;
  keys: SaKeys;
  /** policy priority (lower wins); §4.2.1 entries take precedence over later sections */
  priority?: number;
}

export type SaKeys = Record<HaIpsecSa, { auth: SecretKey; enc: SecretKey }>;

/** Fresh random keys (HMAC-SHA-256, AES-128-CBC) for every SA of the sets. */
export function randomSaKeys(): SaKeys {
  const k = () => ({ auth: SecretKey.from(randomBytes(32)), enc: SecretKey.from(randomBytes(16)) });
  return { SA1: k(), SA2: k(), SA5: k(), SA6: k() };
}

const SECTION_SAS: Record<HaIpsecSection, [fromMn: HaIpsecSa, toMn: HaIpsecSa, proto: number]> = {
  '4.2.1': ['SA1', 'SA2', MH],
  '4.2.3': ['SA5', 'SA6', ICMPV6],
};

export function reqidOf(p: HaIpsecParams, sa: HaIpsecSa): number {
  return (p.reqidBase ?? DEFAULT_OWNERSHIP.reqidMin) + Number(sa.slice(2));
}

/** SA1/SA5 go HoA -> HA, SA2/SA6 HA -> HoA; ESP transport with a host-to-host selector. */
export function haIpsecSa(p: HaIpsecParams, name: HaIpsecSa): PushSa {
  const fromMn = name === 'SA1' || name === 'SA5';
  const proto = name === 'SA1' || name === 'SA2' ? MH : ICMPV6;
  const [saddr, daddr] = fromMn ? [p.hoa, p.ha] : [p.ha, p.hoa];
  return {
    proto: 'esp',
    spi: p.spi[name],
    saddr,
    daddr,
    mode: 'transport',
    reqid: reqidOf(p, name),
    selector: { src: saddr, dst: daddr, srcLen: 128, dstLen: 128, proto },
    auth: { name: 'hmac(sha256)', key: p.keys[name].auth, truncBits: 128 },
    crypt: { name: 'cbc(aes)', key: p.keys[name].enc },
  };
}

function policy(p: HaIpsecParams, dir: 'in' | 'out', sa: HaIpsecSa): PushPolicy {
  const s = haIpsecSa(p, sa);
  return {
    dir,
    selector: s.selector!,
    priority: p.priority ?? 1000,
    templates: [{ proto: 'esp', reqid: s.reqid, mode: 'transport', saddr: s.saddr, daddr: s.daddr }],
  };
}

/**
 * One node's SAD and SPD for the given sections: the MN sends with SA1/SA5 and receives with
 * SA2/SA6, the HA the other way round; both SAD's hold both SAs of each pair.
 */
export function haIpsecSet(p: HaIpsecParams, node: 'mn' | 'ha', sections: HaIpsecSection[]): DesiredIpsec {
  const out: DesiredIpsec = { sas: [], policies: [] };
  for (const sec of sections) {
    const [fromMn, toMn] = SECTION_SAS[sec];
    const [mine, theirs] = node === 'mn' ? [fromMn, toMn] : [toMn, fromMn];
    out.sas.push(haIpsecSa(p, fromMn), haIpsecSa(p, toMn));
    out.policies.push(policy(p, 'out', mine), policy(p, 'in', theirs));
  }
  return out;
}

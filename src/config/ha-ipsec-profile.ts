// [HAIPSEC] §4.2 manual keying, generated from one block per mobile node instead of eight SAs
// and their policies written by hand. The tables (DIGEST §1.3.4):
//
//   pair     SA (draft)          mode       selector (src -> dst, proto)      MN policy   HA policy
//   bu       SA1 toHa  spi_a     transport  HoA/128 -> HA/128, MH             out         in
//            SA2 toMn  spi_b     transport  HA/128 -> HoA/128, MH             in          out
//   rr       SA3 toHa  spi_c     tunnel     HoA/128 -> any, MH                out         in + fwd
//            SA4 toMn  spi_d     tunnel     any -> HoA/128, MH                in          out
//   mpd      SA5 toHa  spi_e     transport  HoA/128 -> HA/128, ICMPv6         out         in
//            SA6 toMn  spi_f     transport  HA/128 -> HoA/128, ICMPv6         in          out
//   payload  SA7 toHa  spi_g     tunnel     HoA/128 -> any, any               out         in + fwd
//            SA8 toMn  spi_h     tunnel     any -> HoA/128, any               in          out
//
// SA addresses: toHa SAs go HoA -> HA, toMn SAs HA -> HoA, as the draft's SAD names them
// (SA4/SA8 have "destination home_address_1"). The tunnel SAs' MN end is therefore the HoA in
// the configuration; [HAIPSEC] §2.2/I6/I7 move it to the current CoA at run time (MIGRATE or
// the outer-address remap, DIGEST OP-25). On Linux the HA also needs `fwd` policies for the
// decapsulated traffic it forwards (a tunnel-mode secpath without a matching fwd policy is
// dropped). The draft's "interface = tunnel ..." conditions have no counterpart in a plain XFRM
// selector (DIGEST OP-28); the priorities give the draft's ordering instead: signalling first,
// then return routability, then payload, all after more specific policies (an IKE daemon's).
import type { SaSelector } from '../ipsec/model.ts';
import type { DocPath } from './issues.ts';
import { ICMPV6, MH, type SaDraft } from './sa-draft.ts';
import type { PROFILE_PAIRS, haIpsecProfileSchema, profileSaSchema } from './schema-ipsec.ts';
import type { PolicyConfig } from './types.ts';
import type { z } from 'zod';

export type ParsedProfile = z.output<typeof haIpsecProfileSchema>;
type ParsedProfileSa = z.output<typeof profileSaSchema>;
type PairName = (typeof PROFILE_PAIRS)[number];

export interface ProfileEndpoints {
  /** which side of the draft's tables this node is */
  role: 'mn' | 'ha';
  homeAddress: string;
  homeAgent: string;
}

interface PairSpec {
  pair: PairName;
  toHa: string;
  toMn: string;
  mode: 'transport' | 'tunnel';
  proto: number;
  cls: 'mh' | 'data' | 'mpd';
  priority: 'signalling' | 'rr' | 'payload';
}

export const PAIR_SPECS: readonly PairSpec[] = [
  { pair: 'bu', toHa: 'SA1', toMn: 'SA2', mode: 'transport', proto: MH, cls: 'mh', priority: 'signalling' },
  { pair: 'rr', toHa: 'SA3', toMn: 'SA4', mode: 'tunnel', proto: MH, cls: 'mh', priority: 'rr' },
  { pair: 'mpd', toHa: 'SA5', toMn: 'SA6', mode: 'transport', proto: ICMPV6, cls: 'mpd', priority: 'signalling' },
  { pair: 'payload', toHa: 'SA7', toMn: 'SA8', mode: 'tunnel', proto: 0, cls: 'data', priority: 'payload' },
];

const host = (a: string) => ({ addr: a, len: 128 });
const ANY = { addr: '::', len: 0 };

function selector(src: { addr: string; len: number }, dst: { addr: string; len: number }, proto: number): SaSelector {
  return { src: src.addr, srcLen: src.len, dst: dst.addr, dstLen: dst.len, proto };
}

export interface ProfileExpansion {
  sas: SaDraft[];
  policies: PolicyConfig[];
  saNames: Record<string, string>;
  pairs: PairName[];
}

/** The SAs and policies of one profile entry, for the MN or the HA side. Pure. */
export function expandHaIpsecProfile(p: ParsedProfile, at: ProfileEndpoints, origin: DocPath): ProfileExpansion {
  const { homeAddress: hoa, homeAgent: ha } = at;
  const out: ProfileExpansion = { sas: [], policies: [], saNames: {}, pairs: [] };
  for (const spec of PAIR_SPECS) {
    const pair = p[spec.pair];
    if (!pair) continue;
    out.pairs.push(spec.pair);
    const tunnel = spec.mode === 'tunnel';
    const toHaSel = tunnel ? selector(host(hoa), ANY, spec.proto) : selector(host(hoa), host(ha), spec.proto);
    const toMnSel = tunnel ? selector(ANY, host(hoa), spec.proto) : selector(host(ha), host(hoa), spec.proto);
    const priority = p.priorities[spec.priority];
    const sides: Array<{ draft: string; cfg: ParsedProfileSa; src: string; dst: string; sel: SaSelector; key: 'toHa' | 'toMn' }> = [
      { draft: spec.toHa, cfg: pair.toHa, src: hoa, dst: ha, sel: toHaSel, key: 'toHa' },
      { draft: spec.toMn, cfg: pair.toMn, src: ha, dst: hoa, sel: toMnSel, key: 'toMn' },
    ];
    for (const s of sides) {
      const name = `${p.name}.${s.draft}`;
      const saOrigin = [...origin, spec.pair, s.key];
      out.saNames[s.draft] = name;
      out.sas.push({
        name,
        proto: 'esp',
        spi: s.cfg.spi,
        src: s.src,
        dst: s.dst,
        mode: spec.mode,
        cls: spec.cls,
        selector: s.sel,
        auth: s.cfg.auth,
        enc: s.cfg.enc,
        aead: s.cfg.aead,
        lifetime: s.cfg.lifetime,
        reqid: s.cfg.reqid,
        origin: saOrigin,
      });
      // toHa SAs leave the MN and arrive at the HA; toMn SAs the other way round
      const outbound = (s.key === 'toHa') === (at.role === 'mn');
      out.policies.push({ dir: outbound ? 'out' : 'in', selector: s.sel, sa: name, priority, origin: saOrigin });
      if (!outbound && tunnel && at.role === 'ha') out.policies.push({ dir: 'fwd', selector: s.sel, sa: name, priority, origin: saOrigin });
    }
  }
  return out;
}

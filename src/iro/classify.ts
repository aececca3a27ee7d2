// SA classification (DIGEST OP-16, OP-17, OP-38, OP-40, App. H): which SAs IRO tracks, as
// what, in which direction, and between which of our HoAs (or local addresses) and which peer.
import type { PolicyInfo, SaInfo } from '../ipsec/model.ts';

export type SaClass = 'mh' | 'data' | 'mpd' | 'untracked';

export type Role = 'mn' | 'cn' | 'ha';

export interface PeerConfig {
  /** the peer's address in SAs: a CN's address, a peer MN's HoA, the HA's address */
  address: string;
  kind: 'cn' | 'mn' | 'ha';
  /** IRO App. I: a peer is explicitly IRO or not at all */
  mode: 'iro' | 'tunnel-only';
}

export interface StaticClass {
  spi: number;
  proto: 'esp' | 'ah';
  daddr: string;
  cls: 'mh' | 'data' | 'mpd';
}

export interface ClassifyContext {
  role: Role;
  /** MN: its home addresses. CN/HA: empty */
  hoas: ReadonlySet<string>;
  /** every address of this node that may be an SA endpoint (HoAs, CN address, HA address) */
  local: ReadonlySet<string>;
  peers: ReadonlyMap<string, PeerConfig>;
  /** policies, for reqid correlation of SAs that carry no selector protocol (PF_KEY-learned) */
  policies: readonly PolicyInfo[];
  /** configuration for statically keyed SAs */
  staticClasses: readonly StaticClass[];
}

export interface Classification {
  cls: SaClass;
  dir?: 'in' | 'out';
  /** our end (a HoA on the MN; our address on CN/HA) */
  local?: string;
  peer?: PeerConfig;
  /** why (for status and logs) */
  why: string;
  /** a condition the operator must hear about (F05, OP-38) */
  alert?: string;
}

const MH = 135;
const ICMPV6 = 58;

function untracked(why: string, alert?: string): Classification {
  return alert ? { cls: 'untracked', why, alert } : { cls: 'untracked', why };
}

/** OP-17: XFRMA_SA_DIR if given, else in when the destination is ours, out when the source is. */
export function inferDirection(sa: SaInfo, local: ReadonlySet<string>): 'in' | 'out' | undefined {
  if (sa.dir) return sa.dir;
  const dIn = local.has(sa.key.daddr);
  const sIn = local.has(sa.saddr);
  if (dIn && !sIn) return 'in';
  if (sIn && !dIn) return 'out';
  return undefined;
}

/** The upper-layer protocol the SA protects: selector, else a policy sharing its reqid (OP-16 step 2). */
function protectedProto(sa: SaInfo, policies: readonly PolicyInfo[]): { proto: number; how: string } | null {
  if (sa.selector && sa.selector.proto !== 0) return { proto: sa.selector.proto, how: 'selector' };
  if (sa.reqid !== 0) {
    const byReqid = policies.filter((p) => p.templates.some((t) => t.reqid === sa.reqid && t.proto === sa.key.proto));
    const protos = new Set(byReqid.map((p) => p.selector.proto));
    if (protos.size === 1) {
      const proto = [...protos][0]!;
      if (proto !== 0) return { proto, how: `policy with reqid ${sa.reqid}` };
    }
  }
  return null;
}

export function classifySa(sa: SaInfo, ctx: ClassifyContext): Classification {
  if (sa.state === 'dead') return untracked('dead SA');
  const dir = inferDirection(sa, ctx.local);
  if (!dir) return untracked(ctx.local.has(sa.saddr) ? 'both ends are local (set the direction in configuration)' : 'no end is local');
  const local = dir === 'in' ? sa.key.daddr : sa.saddr;
  const remote = dir === 'in' ? sa.saddr : sa.key.daddr;
  // App. H: SAs whose end is a CoA (e.g. the MN-HA tunnel) are never remapped.
  if (sa.mode !== 'transport') return untracked(`${sa.mode} mode (IRO tracks transport SAs between a HoA and a peer)`);
  const stat = ctx.staticClasses.find((s) => s.spi === sa.key.spi && s.proto === sa.key.proto && s.daddr === sa.key.daddr);
  const found = stat ? { proto: stat.cls === 'mh' ? MH : stat.cls === 'mpd' ? ICMPV6 : 0, how: 'configuration' } : protectedProto(sa, ctx.policies);
  const cls: 'mh' | 'data' | 'mpd' = stat ? stat.cls : found?.proto === MH ? 'mh' : found?.proto === ICMPV6 ? 'mpd' : 'data';
  const peer = ctx.peers.get(remote);

  if (ctx.role === 'mn') {
    if (!ctx.hoas.has(local)) return untracked(`our end ${local} is not a home address (OP-40)`);
    if (!peer) return untracked(`peer ${remote} is not configured`);
    if (peer.mode !== 'iro') return untracked(`peer ${remote} is tunnel-only`);
    if (cls === 'mpd' && peer.kind !== 'ha') return { cls: 'data', dir, local, peer, why: `ICMPv6 SA with a non-HA peer is data (${found?.how})` };
    return { cls, dir, local, peer, why: found ? `protects proto ${found.proto} (${found.how})` : 'no protocol restriction: data' };
  }
  // CN and HA: the remote end must be the HoA of a configured IRO peer (OP-38, F05).
  if (!peer || peer.mode !== 'iro') {
    const alert = cls === 'mh' ? `MH SA ${sa.saddr} -> ${sa.key.daddr} (spi 0x${(sa.key.spi >>> 0).toString(16)}) has remote end ${remote}, which is not the home address of an IRO peer: not tracked (IRO §8.1.2)` : undefined;
    return untracked(`remote ${remote} is not an IRO peer's home address`, alert);
  }
  if (ctx.role === 'ha' && cls === 'data') return untracked('HA: data SAs with a mobile node are not remapped (IRO §7)');
  return { cls, dir, local, peer, why: found ? `protects proto ${found.proto} (${found.how})` : 'no protocol restriction: data' };
}

// Node configuration -> the signalling roles' options (src/mip6), in one place.
import type { NodeConfig } from '../config/index.ts';
import { authorisedSas } from '../config/index.ts';
import type { Mip6NodeOptions } from '../mip6/index.ts';

/** `lastSequences`: the home agent's persisted last accepted BU sequence numbers (OP-43). */
export function mip6Options(c: NodeConfig, lastSequences?: Readonly<Record<string, number>>): Mip6NodeOptions {
  const o: Mip6NodeOptions = {};
  if (c.role === 'mn' && c.mn) {
    o.mn = {
      hoa: c.mn.homeAddress,
      ha: c.mn.homeAgent,
      peers: c.peers.filter((p) => p.kind !== 'ha').map((p) => ({ address: p.address, mode: p.mode === 'iro' ? 'iro' : 'tunnel-only' })),
      homeLifetime: c.mn.lifetimes.home,
      cnLifetime: c.mn.lifetimes.correspondent,
      keyManagement: c.mn.keyManagement,
      refreshFraction: c.mn.refreshAt,
      earlyTests: c.mn.earlyCoaTest,
    };
  }
  // a CN, and an MN with peer MNs, answers correspondent registrations (OP-7)
  const cn = c.cn;
  if (c.role === 'cn' || (c.role === 'mn' && c.peers.some((p) => p.kind === 'mn' && p.mode === 'iro'))) {
    o.cn = {
      ...(cn ? { maxLifetime: cn.maxLifetime, allowAoto: cn.allowAoto, proofsPerMn: cn.proofsPerMn, proofIdleTtl: cn.proofIdleTtl * 1000, proofsTotal: cn.maxProofs, aotcTtl: cn.aotcTtl * 1000, nonceKeepAfterBa: cn.nonceKeepAfterBa * 1000, sendBeforeProof: cn.sendBeforeProof } : {}),
      ...(cn?.hoaTest.enabled ? { hoaTestInterval: cn.hoaTest.interval * 1000, hoaTestMaxMisses: cn.hoaTest.maxMisses, onHoaTestFail: cn.hoaTest.onFail } : {}),
      acceptPeer: (hoa: string) => c.peers.some((p) => p.address === hoa && p.mode === 'iro'),
    };
  }
  if (c.role === 'ha' && c.ha) {
    const spiOf = new Map(c.ipsec.sas.map((s) => [s.name, s.spi]));
    o.ha = {
      address: c.ha.address,
      homePrefixes: [`${c.ha.homePrefix.addr}/${c.ha.homePrefix.len}`],
      maxLifetime: c.ha.maxBindingLifetime,
      ...(lastSequences ? { lastSequences } : {}),
      authorization: c.ha.mobileNodes.map((m) => {
        if (m.authorisation.kind === 'ike') return { hoa: m.homeAddress, identities: [m.authorisation.identity] };
        const spis = authorisedSas(c, m.homeAddress).map((name) => spiOf.get(name)).filter((x): x is number => x !== undefined);
        return { hoa: m.homeAddress, spis };
      }),
    };
  }
  return o;
}

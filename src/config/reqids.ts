// Reqids for the configured SAs, from the owned range (OP-47). Deterministic and stable: an SA's
// reqid comes from a hash of its kernel identity (protocol, SPI, destination), so loading the
// same file again or reordering it changes nothing, and adding an SA leaves the others' reqids
// alone unless its hash lands on theirs (about 1 in 65536 per SA with the default range), so the
// pusher has nothing to replace. Collisions are resolved by probing in a fixed order.
import type { Ownership } from '../ipsec/desired.ts';
import type { NodeConfig, SaConfig } from './types.ts';

export function ownershipOf(c: Pick<NodeConfig, 'iro'>): Ownership {
  const { reqidBase, reqidCount } = c.iro.ownership;
  return { reqidMin: reqidBase, reqidMax: reqidBase + reqidCount - 1 };
}

function identity(sa: Pick<SaConfig, 'proto' | 'spi' | 'dst'>): string {
  return `${sa.proto}/${sa.spi >>> 0}/${sa.dst}`;
}

/** FNV-1a, 32 bits: small, fixed, and the same on every run and machine. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Reqid by SA name. Explicit reqids are kept (they must lie in the range); throws when it is full. */
export function assignReqids(sas: readonly Pick<SaConfig, 'name' | 'proto' | 'spi' | 'dst' | 'reqid'>[], own: Ownership): Map<string, number> {
  const size = own.reqidMax - own.reqidMin + 1;
  const out = new Map<string, number>();
  const used = new Set<number>();
  for (const sa of sas) {
    if (sa.reqid === undefined) continue;
    if (sa.reqid < own.reqidMin || sa.reqid > own.reqidMax) throw new Error(`SA ${sa.name}: reqid ${sa.reqid} is outside the owned range ${own.reqidMin}-${own.reqidMax}`);
    out.set(sa.name, sa.reqid);
    used.add(sa.reqid);
  }
  const auto = sas.filter((s) => s.reqid === undefined).sort((a, b) => (identity(a) < identity(b) ? -1 : identity(a) > identity(b) ? 1 : a.name < b.name ? -1 : 1));
  if (used.size + auto.length > size) throw new Error(`${used.size + auto.length} SAs need reqids but the owned range holds ${size} (iro.ownership.reqidCount)`);
  for (const sa of auto) {
    let slot = fnv1a(identity(sa)) % size;
    while (used.has(own.reqidMin + slot)) slot = (slot + 1) % size;
    const reqid = own.reqidMin + slot;
    used.add(reqid);
    out.set(sa.name, reqid);
  }
  return out;
}

// The symbolic addresses a file may write instead of literals, in ipsec.sas/policies and in
// haIpsecProfile:
//   HoA, HoA1 .. HoA<n>  the MN's home addresses (mn.homeAddress or mn.homeAddresses[n-1]); MN only
//   HA                   the home agent: mn.homeAgent on an MN, ha.address on an HA
//   CN, CN1 .. CN<n>     this node's correspondent addresses: cn.address(es) on a CN; on an MN with
//                        a cn section, its home addresses
//   <peer name>          a peer's address, for peers that have a `name`
// In prefix fields a name may carry a length ("HoA/128"); "any" means ::/0.
import { canonicalIPv6 } from '../common/ipv6.ts';
import { parsePrefix, type Prefix } from './addresses.ts';
import type { DocPath, Problems } from './issues.ts';
import { ADDRESS_NAME, IDENTIFIER } from './schema-primitives.ts';

export type NameTable = ReadonlyMap<string, string>;

export interface NameSources {
  role: 'mn' | 'cn' | 'ha';
  hoas: readonly string[];
  homeAgent?: string;
  cnAddresses: readonly string[];
  peers: ReadonlyArray<{ name?: string | undefined; address: string }>;
}

export function buildNameTable(s: NameSources): NameTable {
  const t = new Map<string, string>();
  s.hoas.forEach((a, i) => {
    if (i === 0) t.set('HoA', a);
    t.set(`HoA${i + 1}`, a);
  });
  if (s.homeAgent) t.set('HA', s.homeAgent);
  s.cnAddresses.forEach((a, i) => {
    if (i === 0) t.set('CN', a);
    t.set(`CN${i + 1}`, a);
  });
  for (const p of s.peers) if (p.name !== undefined && !t.has(p.name)) t.set(p.name, p.address);
  return t;
}

function undefinedName(name: string, role: string, names: NameTable): string {
  if (!ADDRESS_NAME.test(name)) {
    const known = [...names.keys()];
    return `no address is named ${name}${known.length ? ` (names here: ${known.join(', ')})` : ''}; give the peer a name in peers, or write the address`;
  }
  if (name.startsWith('HoA')) return `the name ${name} is not defined: HoA names the mobile node's home addresses (mn.homeAddress or mn.homeAddresses)${role === 'mn' ? '' : `, and this node's role is ${role}`}`;
  if (name === 'HA') return `the name HA is not defined on a node with role ${role}: write the home agent's address`;
  return `the name ${name} is not defined: CN names this node's correspondent addresses (cn.address or cn.addresses)`;
}

/** A literal address or a name, as canonical text; undefined (and an error) when unknown. */
export function resolveAddress(ref: string, names: NameTable, role: string, path: DocPath, p: Problems): string | undefined {
  if (IDENTIFIER.test(ref)) {
    const a = names.get(ref);
    if (!a) p.error(path, undefinedName(ref, role, names));
    return a;
  }
  return canonicalIPv6(ref);
}

/** A prefix, an address (/128), "any" (::/0) or a name with an optional length. */
export function resolvePrefix(ref: string, names: NameTable, role: string, path: DocPath, p: Problems): Prefix | undefined {
  if (ref === 'any') return { addr: '::', len: 0 };
  const slash = ref.indexOf('/');
  const head = slash < 0 ? ref : ref.slice(0, slash);
  if (IDENTIFIER.test(head)) {
    const a = names.get(head);
    if (!a) {
      p.error(path, undefinedName(head, role, names));
      return undefined;
    }
    return parsePrefix(slash < 0 ? a : `${a}${ref.slice(slash)}`);
  }
  return parsePrefix(ref);
}

// Movement detection, the pure part (issue 6 item 3): which care-of address the MN uses, given
// its interfaces in preference order and what the kernel says about them. At home (an address
// in the home prefix on a candidate interface) there is no CoA.
import { isLinkLocal, parseIPv6 } from '../common/ipv6.ts';

export const IFA_F_TEMPORARY = 0x01;
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_DEPRECATED = 0x20;
export const IFA_F_TENTATIVE = 0x40;

export interface IfaceAddress {
  address: string;
  prefixlen: number;
  flags: number;
}

export interface IfaceState {
  name: string;
  index: number;
  /** administratively up and with carrier */
  up: boolean;
  addresses: IfaceAddress[];
  /** a default route through this interface exists */
  defaultRoute: boolean;
}

export interface CoaChoice {
  coa: string | null;
  ifname: string | null;
  ifindex: number;
  atHome: boolean;
  why: string;
}

function inPrefix(addr: string, prefix: string, len: number): boolean {
  const a = parseIPv6(addr);
  const p = parseIPv6(prefix);
  for (let bit = 0; bit < len; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((a[byte]! & mask) !== (p[byte]! & mask)) return false;
  }
  return true;
}

/** Usable as a CoA: global, neither tentative nor deprecated nor failed. */
function usable(a: IfaceAddress, hoas: ReadonlySet<string>): boolean {
  if (a.flags & (IFA_F_TENTATIVE | IFA_F_DEPRECATED | IFA_F_DADFAILED)) return false;
  if (hoas.has(a.address)) return false;
  const b = parseIPv6(a.address);
  if (isLinkLocal(b) || b[0] === 0xff || a.address === '::1') return false;
  return true;
}

export function selectCoa(
  preference: readonly string[],
  state: ReadonlyMap<string, IfaceState>,
  home: { prefix: string; prefixlen: number },
  hoas: ReadonlySet<string>,
): CoaChoice {
  const reasons: string[] = [];
  for (const name of preference) {
    const s = state.get(name);
    if (!s) {
      reasons.push(`${name}: absent`);
      continue;
    }
    if (!s.up) {
      reasons.push(`${name}: down`);
      continue;
    }
    const candidates = s.addresses.filter((a) => usable(a, hoas));
    if (!candidates.length) {
      reasons.push(`${name}: no usable global address`);
      continue;
    }
    if (candidates.some((a) => inPrefix(a.address, home.prefix, home.prefixlen))) {
      return { coa: null, ifname: name, ifindex: s.index, atHome: true, why: `${name} is on the home link` };
    }
    if (!s.defaultRoute) {
      reasons.push(`${name}: no default route`);
      continue;
    }
    // stable addresses before temporary (privacy) ones; then lowest for determinism
    const best = [...candidates].sort((x, y) => (x.flags & IFA_F_TEMPORARY) - (y.flags & IFA_F_TEMPORARY) || x.address.localeCompare(y.address))[0]!;
    return { coa: best.address, ifname: name, ifindex: s.index, atHome: false, why: `${name} (preference ${preference.indexOf(name) + 1}) with a default route` };
  }
  return { coa: null, ifname: null, ifindex: 0, atHome: false, why: reasons.join('; ') || 'no candidate interface' };
}

export function sameChoice(a: CoaChoice | null, b: CoaChoice): boolean {
  return !!a && a.coa === b.coa && a.ifindex === b.ifindex && a.atHome === b.atHome;
}

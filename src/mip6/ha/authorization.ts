// Which SA or IKE identity may register which home address ([HAIPSEC] P9, RFC 6275 §5.1):
// "the security policy database entries MUST unequivocally identify a single security
// association for any given home address and home agent when manual keying is used", and with
// dynamic keying "the IKE phase 1 credentials which can be used to authorize the creation of
// security associations for a particular home address" (DIGEST I01, I02). The kernel SPD does
// the first check on the wire; this table is the state machine's (and the IKE glue's) check.
import { parseIPv6 } from '../../common/ipv6.ts';
import { BaStatus } from '../codec/index.ts';
import { canonicalAddress } from '../address.ts';
import type { Address } from '../types.ts';

export interface HoaAuthorization {
  hoa: string;
  /** Manual keying: SPIs of the inbound MN->HA MH SAs (SA1) that may carry this HoA's BUs. */
  spis?: readonly number[];
  /** Dynamic keying: IKE phase-1 identities (e.g. FQDN, user@fqdn) that may register it. */
  identities?: readonly string[];
}

export interface Credentials {
  spi?: number | undefined;
  identity?: string | undefined;
}

export type AuthorizationResult =
  | { ok: true }
  | {
      ok: false;
      /** The BA status to refuse with (RFC 6275 §6.1.8). */
      status: typeof BaStatus.ADMINISTRATIVELY_PROHIBITED | typeof BaStatus.NOT_HOME_SUBNET | typeof BaStatus.NOT_HOME_AGENT;
      reason: string;
    };

interface Prefix {
  text: string;
  bytes: Buffer;
  length: number;
}

function parsePrefix(text: string): Prefix {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  const length = m ? Number(m[2]) : NaN;
  if (!m || !(length >= 0 && length <= 128)) throw new Error(`HA home prefix "${text}": expected <IPv6 address>/<0-128>`);
  return { text, bytes: parseIPv6(m[1]!), length };
}

function inPrefix(addr: Buffer, p: Prefix): boolean {
  const full = p.length >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== p.bytes[i]) return false;
  const rest = p.length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((addr[full]! ^ p.bytes[full]!) & mask) === 0;
}

interface Entry {
  spis: Set<number> | null;
  identities: Set<string> | null;
}

export class HaAuthorizationTable {
  private readonly byHoa = new Map<Address, Entry>();
  private readonly prefixes: Prefix[];

  constructor(entries: readonly HoaAuthorization[], homePrefixes: readonly string[] = []) {
    this.prefixes = homePrefixes.map(parsePrefix);
    const spiOwner = new Map<number, Address>();
    for (const [i, a] of entries.entries()) {
      const hoa = canonicalAddress(a.hoa, `HA authorization[${i}].hoa`);
      if (this.byHoa.has(hoa)) throw new Error(`HA authorization[${i}]: home address ${hoa} listed twice`);
      const spis = a.spis === undefined ? null : new Set(a.spis);
      const identities = a.identities === undefined ? null : new Set(a.identities);
      if ((spis === null || spis.size === 0) && (identities === null || identities.size === 0)) {
        throw new Error(
          `HA authorization[${i}] (${hoa}): give the SA SPIs (manual keying) or the IKE identities (dynamic keying) allowed to register it ([HAIPSEC] P9)`,
        );
      }
      for (const spi of spis ?? []) {
        if (!Number.isInteger(spi) || spi < 256 || spi > 0xffffffff) {
          throw new RangeError(`HA authorization[${i}] (${hoa}): SPI ${spi} is not a valid SPI (256-4294967295)`);
        }
        const other = spiOwner.get(spi);
        if (other !== undefined) {
          throw new Error(`HA authorization[${i}]: SPI ${spi} is authorised for both ${other} and ${hoa}; one SA must identify one home address`);
        }
        spiOwner.set(spi, hoa);
      }
      for (const id of identities ?? []) {
        if (typeof id !== 'string' || id.length === 0) throw new Error(`HA authorization[${i}] (${hoa}): empty IKE identity`);
      }
      if (this.prefixes.length > 0 && !this.isHomeSubnet(hoa)) {
        throw new Error(`HA authorization[${i}]: ${hoa} is outside the home prefixes ${this.prefixes.map((p) => p.text).join(', ')}`);
      }
      this.byHoa.set(hoa, { spis, identities });
    }
  }

  get size(): number {
    return this.byHoa.size;
  }

  /** May a BU for `hoa` that arrived with these credentials register it? */
  check(hoa: Address, cred: Credentials): AuthorizationResult {
    if (this.prefixes.length > 0 && !this.isHomeSubnet(hoa)) {
      return { ok: false, status: BaStatus.NOT_HOME_SUBNET, reason: 'home address outside the home prefixes' };
    }
    const e = this.byHoa.get(hoa);
    if (e === undefined) return { ok: false, status: BaStatus.NOT_HOME_AGENT, reason: 'home address not served by this home agent' };
    if (e.spis !== null && (cred.spi === undefined || !e.spis.has(cred.spi))) {
      return { ok: false, status: BaStatus.ADMINISTRATIVELY_PROHIBITED, reason: 'SA not authorised for this home address' };
    }
    if (e.identities !== null && (cred.identity === undefined || !e.identities.has(cred.identity))) {
      return { ok: false, status: BaStatus.ADMINISTRATIVELY_PROHIBITED, reason: 'IKE identity not authorised for this home address' };
    }
    return { ok: true };
  }

  /**
   * I02: may the IKE peer authenticated as `identity` negotiate SAs for `hoa` (phase 2)? For the
   * IKE glue; a HoA configured with SPIs only (manual keying) is never negotiable.
   */
  mayNegotiate(identity: string, hoa: string): boolean {
    const e = this.byHoa.get(canonicalAddress(hoa, 'phase-2 home address'));
    return e?.identities?.has(identity) ?? false;
  }

  private isHomeSubnet(hoa: Address): boolean {
    const bytes = parseIPv6(hoa);
    return this.prefixes.some((p) => inPrefix(bytes, p));
  }
}

// Home agent knobs (DIGEST §2.3.2, I05, OP-43) and defaults.
import { MAX_LIFETIME_SECONDS } from '../codec/index.ts';
import { canonicalAddress } from '../address.ts';
import type { Address } from '../types.ts';
import { HaAuthorizationTable, type HoaAuthorization } from './authorization.ts';

export interface HaOptions {
  /** The HA's address (source of its BAs). */
  address: string;
  /** Per-HoA authorisation ([HAIPSEC] P9, I02). */
  authorization: readonly HoaAuthorization[];
  /** Home prefixes ("2001:db8:1::/64"); a BU for a HoA outside them gets BA 132. */
  homePrefixes?: readonly string[];
  /** Longest home binding granted, seconds (default 3600). */
  maxLifetime?: number;
  /**
   * I05 / [HAIPSEC] I5 (the BU "SHOULD" carry AltCoA): 'accept' uses the on-wire source as the
   * CoA and logs; 'reject' discards the BU. Default 'accept'.
   */
  missingAltCoa?: 'accept' | 'reject';
  /** K flag answered when the BU has it: the MN-HA IKE SA can follow the CoA. Default false. */
  keyManagement?: boolean;
  /** Drop BUs that did not arrive over IPsec (default true; RFC 6275 §10.3.1 requires IPsec). */
  requireIpsec?: boolean;
  /** OP-43: last accepted sequence number per HoA, as persisted by the shell across restarts. */
  lastSequences?: Readonly<Record<string, number>>;
}

export interface HaConfig {
  address: Address;
  authorization: HaAuthorizationTable;
  maxLifetime: number;
  missingAltCoa: 'accept' | 'reject';
  keyManagement: boolean;
  requireIpsec: boolean;
  lastSequences: Map<Address, number>;
}

export function resolveHaOptions(o: HaOptions): HaConfig {
  const maxLifetime = o.maxLifetime ?? 3600;
  if (!Number.isFinite(maxLifetime) || maxLifetime < 4 || maxLifetime > MAX_LIFETIME_SECONDS) {
    throw new RangeError(`HA option maxLifetime: expected 4-${MAX_LIFETIME_SECONDS} s, got ${String(o.maxLifetime)}`);
  }
  const missingAltCoa = o.missingAltCoa ?? 'accept';
  if (missingAltCoa !== 'accept' && missingAltCoa !== 'reject') {
    throw new Error(`HA option missingAltCoa: expected accept | reject, got ${String(missingAltCoa)}`);
  }
  const lastSequences = new Map<Address, number>();
  for (const [hoa, seq] of Object.entries(o.lastSequences ?? {})) {
    if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff) throw new RangeError(`HA option lastSequences[${hoa}]: expected 0-65535, got ${seq}`);
    lastSequences.set(canonicalAddress(hoa, 'HA option lastSequences key'), seq);
  }
  return {
    address: canonicalAddress(o.address, 'HA option address'),
    authorization: new HaAuthorizationTable(o.authorization, o.homePrefixes),
    maxLifetime: Math.floor(maxLifetime / 4) * 4,
    missingAltCoa,
    keyManagement: o.keyManagement ?? false,
    requireIpsec: o.requireIpsec ?? true,
    lastSequences,
  };
}

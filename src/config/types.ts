// The effective node configuration: the schema's output with names resolved, the [HAIPSEC]
// profile expanded into ordinary SAs and policies, and keys loaded into SecretKey objects.
// This is what the daemon and the CLI receive; nothing in it prints a key.
import type { SecretKey } from '../kernel/xfrm/secret-key.ts';
import type { SaSelector } from '../ipsec/model.ts';
import type { DocPath } from './issues.ts';
import type { ParsedCn, ParsedConfig, ParsedHa, ParsedMn, ParsedPeer } from './schema.ts';
import type { ProfilePairName } from './schema-ipsec.ts';

export interface KeyMaterial {
  alg: string;
  /** null only for ecb(cipher_null), which takes no key */
  key: SecretKey | null;
  /** where the key came from; a key file's path (resolved) is not secret and is shown */
  source: 'inline' | 'file' | 'none';
  keyFile?: string;
}

export interface AuthMaterial extends KeyMaterial {
  truncBits: number;
}

export interface AeadMaterial extends KeyMaterial {
  icvBits: number;
}

export interface SaConfig {
  name: string;
  proto: 'esp' | 'ah';
  spi: number;
  /** canonical addresses (names resolved) */
  src: string;
  dst: string;
  mode: 'transport' | 'tunnel';
  /** classification hint for statically keyed SAs (StaticClass) */
  cls: 'mh' | 'data' | 'mpd';
  selector: SaSelector;
  auth?: AuthMaterial;
  enc?: KeyMaterial;
  aead?: AeadMaterial;
  lifetime?: { soft?: number; hard?: number };
  /** an explicit reqid from the file; otherwise assigned from iro.ownership (reqids.ts) */
  reqid?: number;
  /** where it is defined: `ipsec.sas[i]`, or the profile pair direction that generated it */
  origin: DocPath;
}

export interface PolicyConfig {
  dir: 'in' | 'out' | 'fwd';
  selector: SaSelector;
  /** the template SA's name */
  sa: string;
  priority: number;
  origin: DocPath;
}

export interface IpsecConfig {
  sas: SaConfig[];
  policies: PolicyConfig[];
}

/** One direction of the design-A tunnel protection (its MN end is the CoA, known at run time). */
export interface TunnelSaConfig {
  name: string;
  spi: number;
  auth?: AuthMaterial;
  enc?: KeyMaterial;
  aead?: AeadMaterial;
  lifetime?: { soft?: number; hard?: number };
  reqid?: number;
}

/** What a [HAIPSEC] profile entry expanded to (its SAs and policies are in `ipsec`). */
export interface HaIpsecProfileSummary {
  name: string;
  homeAddress: string;
  homeAgent: string;
  pairs: ProfilePairName[];
  /** generated SA names by draft name: SA1..SA8 */
  saNames: Record<string, string>;
  /** design-A tunnel protection: toHa (CoA -> HA) and toMn (HA -> CoA), ESP transport, proto 41 */
  tunnel?: { toHa: TunnelSaConfig; toMn: TunnelSaConfig };
  origin: DocPath;
}

export type MnConfig = Omit<ParsedMn, 'homeAddress' | 'homeAddresses'> & {
  /** the first home address (the one `HoA` names) */
  homeAddress: string;
  homeAddresses: string[];
};

export type CnConfig = Omit<ParsedCn, 'address' | 'addresses'> & {
  address: string;
  addresses: string[];
};

export type MobileNodeAuthorisation = { kind: 'sas'; sas: string[]; derivedFromProfile: boolean } | { kind: 'ike'; identity: string };

export interface MobileNodeConfig {
  homeAddress: string;
  mode: 'iro' | 'classic';
  authorisation: MobileNodeAuthorisation;
}

export type HaConfig = Omit<ParsedHa, 'interfaces' | 'mobileNodes'> & {
  interfaces: string[];
  mobileNodes: MobileNodeConfig[];
};

export type PeerEntry = Omit<ParsedPeer, 'mode'> & { mode: 'iro' | 'tunnel-only' };

export type NodeConfig = Omit<ParsedConfig, 'mn' | 'cn' | 'ha' | 'peers' | 'ipsec' | 'haIpsecProfile'> & {
  /** the file it was loaded from (for messages) */
  file: string;
  mn?: MnConfig;
  cn?: CnConfig;
  ha?: HaConfig;
  peers: PeerEntry[];
  ipsec: IpsecConfig;
  haIpsecProfile: HaIpsecProfileSummary[];
};

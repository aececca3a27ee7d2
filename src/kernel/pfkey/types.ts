// The decoded shape of PF_KEY v2 messages: one field per extension, named after the
// RFC 2367 / Linux extension, values as on the wire (host-order integers, SPIs as numbers,
// u64 counters as bigint) so that encode(decode(bytes)) gives the same bytes back.
import type { KeyMaterial } from './key-material.ts';

export type AddressFamily = 'inet' | 'inet6';

/** sockaddr_in / sockaddr_in6 as carried inside PF_KEY extensions. */
export interface PfkeySockaddr {
  family: AddressFamily;
  /** canonical text (RFC 5952 for IPv6, dotted quad for IPv4) */
  address: string;
  port: number;
  /** sockaddr_in6 only */
  flowinfo?: number;
  /** sockaddr_in6 only */
  scopeId?: number;
}

export interface SadbSa {
  /** host-order value of the network-order sadb_sa_spi */
  spi: number;
  replay: number;
  state: number;
  auth: number;
  encrypt: number;
  flags: number;
}

export interface SadbLifetime {
  allocations: number;
  bytes: bigint;
  addtime: bigint;
  usetime: bigint;
}

export interface SadbAddress {
  proto: number;
  prefixlen: number;
  reserved: number;
  addr: PfkeySockaddr;
}

export interface SadbKey {
  bits: number;
  reserved: number;
  key: KeyMaterial;
}

export interface SadbIdentity {
  identType: number;
  reserved: number;
  id: bigint;
  /** the identity string bytes that follow the header (NUL padding included) */
  data: Buffer;
}

/** Decoded only as far as its size: Linux neither sends nor uses it. */
export interface SadbSensitivity {
  length: number;
}

export interface SadbComb {
  auth: number;
  encrypt: number;
  flags: number;
  authMinbits: number;
  authMaxbits: number;
  encryptMinbits: number;
  encryptMaxbits: number;
  reserved: number;
  softAllocations: number;
  hardAllocations: number;
  softBytes: bigint;
  hardBytes: bigint;
  softAddtime: bigint;
  hardAddtime: bigint;
  softUsetime: bigint;
  hardUsetime: bigint;
}

export interface SadbProposal {
  replay: number;
  /** the three reserved octets as one 24-bit value */
  reserved: number;
  combs: SadbComb[];
}

export interface SadbAlg {
  id: number;
  ivlen: number;
  minbits: number;
  maxbits: number;
  reserved: number;
}

export interface SadbSupported {
  reserved: number;
  algs: SadbAlg[];
}

export interface SadbSpirange {
  /** host order (af_key passes them to xfrm_alloc_spi as plain u32) */
  min: number;
  max: number;
  reserved: number;
}

/** Opaque key-manager data: kept as its size only. */
export interface SadbKmprivate {
  reserved: number;
  length: number;
}

export interface SadbIpsecRequest {
  proto: number;
  mode: number;
  level: number;
  reqid: number;
  reserved1: number;
  reserved2: number;
  /** tunnel endpoints (tunnel mode, X_MIGRATE old/new pairs) */
  endpoints?: { src: PfkeySockaddr; dst: PfkeySockaddr };
  /** sadb_x_ipsecrequest_len in octets (it is not in 8-octet units) */
  length: number;
}

export interface SadbXPolicy {
  type: number;
  dir: number;
  reserved: number;
  id: number;
  priority: number;
  requests: SadbIpsecRequest[];
}

export interface SadbXSa2 {
  mode: number;
  reserved1: number;
  reserved2: number;
  sequence: number;
  reqid: number;
}

export interface SadbNatTType {
  type: number;
  /** the three reserved octets as one 24-bit value */
  reserved: number;
}

export interface SadbNatTPort {
  port: number;
  reserved: number;
}

export interface SadbSecCtx {
  alg: number;
  doi: number;
  /** the context string (sadb_x_ctx_len octets) */
  ctx: Buffer;
}

export interface SadbKmaddress {
  reserved: number;
  local: PfkeySockaddr;
  remote: PfkeySockaddr;
}

export interface SadbFilter {
  /** raw 16-octet xfrm_address_t of each side (IPv4 uses the first 4) */
  saddr: Buffer;
  daddr: Buffer;
  family: number;
  splen: number;
  dplen: number;
}

export interface PfkeyExtensions {
  sa?: SadbSa;
  lifetimeCurrent?: SadbLifetime;
  lifetimeHard?: SadbLifetime;
  lifetimeSoft?: SadbLifetime;
  src?: SadbAddress;
  dst?: SadbAddress;
  proxy?: SadbAddress;
  keyAuth?: SadbKey;
  keyEncrypt?: SadbKey;
  identitySrc?: SadbIdentity;
  identityDst?: SadbIdentity;
  sensitivity?: SadbSensitivity;
  proposal?: SadbProposal;
  supportedAuth?: SadbSupported;
  supportedEncrypt?: SadbSupported;
  spirange?: SadbSpirange;
  kmprivate?: SadbKmprivate;
  policy?: SadbXPolicy;
  sa2?: SadbXSa2;
  natTType?: SadbNatTType;
  natTSport?: SadbNatTPort;
  natTDport?: SadbNatTPort;
  natTOa?: SadbAddress;
  secCtx?: SadbSecCtx;
  kmaddress?: SadbKmaddress;
  filter?: SadbFilter;
}

export type ExtensionName = keyof PfkeyExtensions;

/** An extension type this codec does not know: skipped, recorded. */
export interface UnknownExtension {
  type: number;
  offset: number;
  length: number;
}

export interface PfkeyHeader {
  version: number;
  type: number;
  errno: number;
  satype: number;
  /** Linux puts the policy refcount here in SPD messages; requests must send 0 */
  reserved: number;
  seq: number;
  pid: number;
}

export interface PfkeyMessage extends PfkeyHeader {
  ext: PfkeyExtensions;
  /** extension types in wire order (lets the encoder reproduce kernel messages byte for byte) */
  order?: number[];
  unknown?: UnknownExtension[];
  /** total length in octets (decoded messages) */
  length?: number;
  /** key extensions the receiver dropped (bit lengths), when it does not retain keys */
  removedKeys?: { auth?: number; encrypt?: number };
}

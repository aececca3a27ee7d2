// The typed XFRM model. Numbers are the kernel's values (constants.ts names them); addresses
// are text (IPv6 canonical or dotted IPv4) and their family says how they are encoded.
// Keys are SecretKey objects: present when pushing, absent from decoded messages unless the
// decoder was asked for them (keyPresent/keyBits tell what the kernel holds).
import type { SecretKey } from './secret-key.ts';

export interface XfrmSelector {
  family: number;
  daddr: string;
  saddr: string;
  prefixlenD: number;
  prefixlenS: number;
  /** upper-layer protocol; 0 = any */
  proto: number;
  /** host-order values; on the wire they are network order. MH type and ICMP type live in sport, ICMP code in dport */
  dport: number;
  dportMask: number;
  sport: number;
  sportMask: number;
  ifindex: number;
  user: number;
}

export interface XfrmId {
  daddr: string;
  /** host-order value of the network-order SPI */
  spi: number;
  proto: number;
}

export interface XfrmLifetimeCfg {
  softByteLimit: bigint;
  hardByteLimit: bigint;
  softPacketLimit: bigint;
  hardPacketLimit: bigint;
  softAddExpiresSeconds: bigint;
  hardAddExpiresSeconds: bigint;
  softUseExpiresSeconds: bigint;
  hardUseExpiresSeconds: bigint;
}

export interface XfrmLifetimeCur {
  bytes: bigint;
  packets: bigint;
  addTime: bigint;
  useTime: bigint;
}

export interface XfrmStats {
  replayWindow: number;
  replay: number;
  integrityFailed: number;
}

export interface XfrmAlgo {
  /** crypto API name, e.g. "cbc(aes)", "hmac(sha256)", "rfc4106(gcm(aes))" */
  name: string;
  /** set when pushing; set by the decoder only when asked (withKeys) */
  key?: SecretKey;
  /** key length in bits; taken from key when pushing */
  keyBits?: number;
  /** decoded messages: whether the kernel sent key bytes (they are not kept unless asked) */
  keyPresent?: boolean;
}

export interface XfrmAuthAlgo extends XfrmAlgo {
  /** ICV truncation length in bits, sent as XFRMA_ALG_AUTH_TRUNC; absent: XFRMA_ALG_AUTH (the algorithm's default) */
  truncBits?: number;
}

export interface XfrmAeadAlgo extends XfrmAlgo {
  icvBits: number;
}

export interface XfrmMark {
  value: number;
  mask: number;
}

export interface XfrmReplayState {
  oseq: number;
  seq: number;
  bitmap: number;
}

/** What a caller gives to push an SA; omitted fields take iproute2's defaults. */
export interface XfrmSaInput {
  id: XfrmId;
  saddr: string;
  family?: number;
  mode?: number;
  reqid?: number;
  seq?: number;
  replayWindow?: number;
  flags?: number;
  selector?: Partial<XfrmSelector>;
  lifetime?: Partial<XfrmLifetimeCfg>;
  auth?: XfrmAuthAlgo;
  crypt?: XfrmAlgo;
  aead?: XfrmAeadAlgo;
  comp?: XfrmAlgo;
  mark?: XfrmMark;
  /** output mark (XFRMA_SET_MARK, formerly XFRMA_OUTPUT_MARK) and its mask */
  setMark?: { value: number; mask?: number };
  ifId?: number;
  /** XFRMA_SA_DIR (kernel >= 6.10): XFRM_SA_DIR_IN / XFRM_SA_DIR_OUT */
  direction?: number;
  extraFlags?: number;
  tfcpad?: number;
  replay?: XfrmReplayState;
}

/** An SA as the kernel reports it. */
export interface XfrmSa extends XfrmSaInput {
  family: number;
  mode: number;
  reqid: number;
  seq: number;
  replayWindow: number;
  flags: number;
  selector: XfrmSelector;
  lifetime: XfrmLifetimeCfg;
  current: XfrmLifetimeCur;
  stats: XfrmStats;
  srcaddr?: string;
  coaddr?: string;
  lastUsed?: bigint;
  /** XFRMA_LTIME_VAL (in GETAE/aevent replies) */
  currentValue?: XfrmLifetimeCur;
  /** attribute types present but not modelled (their bytes are not kept) */
  otherAttributes: number[];
}

/** Identifies one SA: (daddr, spi, proto) within a family, optionally narrowed by saddr and mark. */
export interface XfrmSaId {
  daddr: string;
  spi: number;
  proto: number;
  family: number;
  saddr?: string;
  mark?: XfrmMark;
  ifId?: number;
}

export interface XfrmSpiRequest {
  id: { daddr: string; proto: number };
  saddr: string;
  family: number;
  mode?: number;
  reqid?: number;
  seq?: number;
  selector?: Partial<XfrmSelector>;
  /** SPI range (host order values) */
  min: number;
  max: number;
  mark?: XfrmMark;
  ifId?: number;
  direction?: number;
}

export interface XfrmTemplateInput {
  id: { daddr?: string; spi?: number; proto: number };
  family?: number;
  saddr?: string;
  reqid?: number;
  mode?: number;
  share?: number;
  /** level "use" (optional) vs "required" */
  optional?: boolean;
  aalgos?: number;
  ealgos?: number;
  calgos?: number;
}

export interface XfrmTemplate extends XfrmTemplateInput {
  id: XfrmId;
  family: number;
  saddr: string;
  reqid: number;
  mode: number;
  share: number;
  optional: boolean;
  aalgos: number;
  ealgos: number;
  calgos: number;
}

export interface XfrmPolicyInput {
  selector: Partial<XfrmSelector> & { family: number };
  dir: number;
  action?: number;
  priority?: number;
  index?: number;
  flags?: number;
  share?: number;
  lifetime?: Partial<XfrmLifetimeCfg>;
  templates?: XfrmTemplateInput[];
  mark?: XfrmMark;
  ifId?: number;
  /** XFRM_POLICY_TYPE_MAIN (default) or _SUB */
  type?: number;
}

export interface XfrmPolicy extends XfrmPolicyInput {
  selector: XfrmSelector;
  action: number;
  priority: number;
  index: number;
  flags: number;
  share: number;
  lifetime: XfrmLifetimeCfg;
  current: XfrmLifetimeCur;
  templates: XfrmTemplate[];
  otherAttributes: number[];
}

/** Identifies a policy by selector+dir, or by index (+dir). */
export interface XfrmPolicyId {
  selector: Partial<XfrmSelector> & { family: number };
  dir: number;
  index?: number;
  mark?: XfrmMark;
  ifId?: number;
  type?: number;
}

export interface XfrmMigrateEntry {
  oldDaddr: string;
  oldSaddr: string;
  newDaddr: string;
  newSaddr: string;
  proto: number;
  mode: number;
  reqid: number;
  oldFamily: number;
  newFamily: number;
}

export interface XfrmKmAddress {
  local: string;
  remote: string;
  family: number;
}

export interface XfrmMigrate {
  policy: XfrmPolicyId;
  entries: XfrmMigrateEntry[];
  kmaddress?: XfrmKmAddress;
}

export interface XfrmAcquire {
  id: XfrmId;
  saddr: string;
  selector: XfrmSelector;
  policy: XfrmPolicy;
  aalgos: number;
  ealgos: number;
  calgos: number;
  seq: number;
  templates: XfrmTemplate[];
  mark?: XfrmMark;
  ifId?: number;
  policyType?: number;
}

export interface XfrmHeaderInfo {
  seq: number;
  pid: number;
  flags: number;
}

/** Every XFRM message we decode (requests, replies and multicast events alike). */
export type XfrmMessage = XfrmHeaderInfo &
  (
    | { kind: 'newsa' | 'updsa'; sa: XfrmSa }
    | { kind: 'delsa'; id: XfrmSaId; sa?: XfrmSa }
    | { kind: 'getsa'; id: XfrmSaId }
    | { kind: 'allocspi'; request: XfrmSpiRequest }
    | { kind: 'expire'; sa: XfrmSa; hard: boolean }
    | { kind: 'acquire'; acquire: XfrmAcquire }
    | { kind: 'flushsa'; proto: number }
    | { kind: 'newpolicy' | 'updpolicy'; policy: XfrmPolicy }
    | { kind: 'delpolicy'; id: XfrmPolicyId; policy?: XfrmPolicy }
    | { kind: 'getpolicy'; id: XfrmPolicyId }
    | { kind: 'polexpire'; policy: XfrmPolicy; hard: boolean }
    | { kind: 'flushpolicy'; policyType?: number }
    | { kind: 'migrate'; migrate: XfrmMigrate }
    | { kind: 'other'; type: number; length: number }
  );

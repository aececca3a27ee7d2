// TypeScript mirror of bpf/lib/abi.h. Every layout and enum here is checked against the BPF
// object's BTF when the data path loads (verifyAbi), so the two cannot drift silently.
import type { BtfInfo } from '../kernel/native.ts';
import { formatIPv6 } from '../common/ipv6.ts';

export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;

export enum Dir {
  In = 0,
  Out = 1,
}

export const RuleFlag = {
  Src: 1 << 0,
  Dst: 1 << 1,
  SrcWildcard: 1 << 2,
  SrcAnc: 1 << 3,
  DstAnc: 1 << 4,
  RecAnc: 1 << 5,
  DropMismatch: 1 << 6,
} as const;

/** Global counters, index = position (enum iro_stat). */
export const STAT_NAMES = [
  'ipsec',
  'parse_error',
  'ext_limit',
  'udp_encap',
  'untracked',
  'miss_hoa',
  'miss_drop',
  'src_rewrite',
  'dst_rewrite',
  'src_mismatch',
  'dst_mismatch',
  'mismatch_drop',
  'already_remapped',
  'anc_out_used',
  'anc_out_stale',
  'anc_in_recorded',
  'frag_first',
  'frag_rewrite',
  'frag_unmatched',
  'icmp_rewrite',
  'icmp_unmatched',
  'redirect',
  'fib_fail',
  'l3_no_oif',
  'event_lost',
  'hoa_guard_drop',
] as const;
export type StatName = (typeof STAT_NAMES)[number];

export enum MissPolicy {
  Drop = 0,
  Pass = 1,
}

export const CfgFlag = {
  EventMismatch: 1 << 0,
  AncInMark: 1 << 1,
  HoaGuard: 1 << 2,
} as const;

export enum EventKind {
  Miss = 1,
  Mismatch = 2,
}

// ---- layouts ---------------------------------------------------------------------------

export const RULE_KEY_SIZE = 24;
export const RULE_SIZE = 80;
export const RULE_STATS_SIZE = 32;
export const CFG_SIZE = 32;
export const ANC_OUT_SIZE = 40;
export const ANC_IN_SIZE = 56;
export const ANC_IN_KEY_SIZE = 8;
export const EVENT_SIZE = 56;
export const ADDR_KEY_SIZE = 16;

export interface RuleKey {
  dir: Dir;
  proto: number;
  spi: number;
  /** outgoing: peer address before remapping; incoming: 16 zero bytes */
  peer: Buffer;
}

export interface RuleValue {
  flags: number;
  slot: number;
  oif: number;
  expSrc: Buffer;
  newSrc: Buffer;
  expDst: Buffer;
  newDst: Buffer;
}

export function encodeRuleKey(k: RuleKey, out = Buffer.alloc(RULE_KEY_SIZE), off = 0): Buffer {
  out.writeUInt8(k.dir, off);
  out.writeUInt8(k.proto, off + 1);
  out.writeUInt16LE(0, off + 2);
  out.writeUInt32BE(k.spi >>> 0, off + 4);
  k.peer.copy(out, off + 8, 0, 16);
  return out;
}

export function decodeRuleKey(b: Buffer, off = 0): RuleKey {
  return {
    dir: b.readUInt8(off) as Dir,
    proto: b.readUInt8(off + 1),
    spi: b.readUInt32BE(off + 4),
    peer: Buffer.from(b.subarray(off + 8, off + 24)),
  };
}

export function encodeRuleValue(v: RuleValue, out = Buffer.alloc(RULE_SIZE), off = 0): Buffer {
  out.writeUInt32LE(v.flags >>> 0, off);
  out.writeUInt32LE(v.slot >>> 0, off + 4);
  out.writeUInt32LE(v.oif >>> 0, off + 8);
  out.writeUInt32LE(0, off + 12);
  v.expSrc.copy(out, off + 16, 0, 16);
  v.newSrc.copy(out, off + 32, 0, 16);
  v.expDst.copy(out, off + 48, 0, 16);
  v.newDst.copy(out, off + 64, 0, 16);
  return out;
}

export function decodeRuleValue(b: Buffer, off = 0): RuleValue {
  return {
    flags: b.readUInt32LE(off),
    slot: b.readUInt32LE(off + 4),
    oif: b.readUInt32LE(off + 8),
    expSrc: Buffer.from(b.subarray(off + 16, off + 32)),
    newSrc: Buffer.from(b.subarray(off + 32, off + 48)),
    expDst: Buffer.from(b.subarray(off + 48, off + 64)),
    newDst: Buffer.from(b.subarray(off + 64, off + 80)),
  };
}

export interface RuleCounters {
  srcHits: bigint;
  srcMismatch: bigint;
  dstHits: bigint;
  dstMismatch: bigint;
}

/** Sum a per-CPU iro_rule_stats value (ncpu slots of 32 bytes). */
export function sumRuleCounters(b: Buffer): RuleCounters {
  const c = { srcHits: 0n, srcMismatch: 0n, dstHits: 0n, dstMismatch: 0n };
  for (let off = 0; off + RULE_STATS_SIZE <= b.length; off += RULE_STATS_SIZE) {
    c.srcHits += b.readBigUInt64LE(off);
    c.srcMismatch += b.readBigUInt64LE(off + 8);
    c.dstHits += b.readBigUInt64LE(off + 16);
    c.dstMismatch += b.readBigUInt64LE(off + 24);
  }
  return c;
}

export interface DatapathConfig {
  missPolicy: MissPolicy;
  flags: number;
  markMask: number;
  missIntervalNs: bigint;
  fragTtlNs: bigint;
}

export function markShift(mask: number): number {
  if (mask === 0) return 0;
  let s = 0;
  while (((mask >>> s) & 1) === 0) s++;
  return s;
}

export function encodeConfig(c: DatapathConfig): Buffer {
  const b = Buffer.alloc(CFG_SIZE);
  b.writeUInt32LE(c.missPolicy, 0);
  b.writeUInt32LE(c.flags >>> 0, 4);
  b.writeUInt32LE(c.markMask >>> 0, 8);
  b.writeUInt32LE(markShift(c.markMask), 12);
  b.writeBigUInt64LE(c.missIntervalNs, 16);
  b.writeBigUInt64LE(c.fragTtlNs, 24);
  return b;
}

export function decodeConfig(b: Buffer): DatapathConfig {
  return {
    missPolicy: b.readUInt32LE(0) as MissPolicy,
    flags: b.readUInt32LE(4),
    markMask: b.readUInt32LE(8),
    missIntervalNs: b.readBigUInt64LE(16),
    fragTtlNs: b.readBigUInt64LE(24),
  };
}

export function encodeAncOut(src: Buffer | null, dst: Buffer | null, expiresNs: bigint): Buffer {
  const b = Buffer.alloc(ANC_OUT_SIZE);
  src?.copy(b, 0, 0, 16);
  dst?.copy(b, 16, 0, 16);
  b.writeBigUInt64LE(expiresNs, 32);
  return b;
}

export interface AncInRecord {
  /** on-wire source before remapping, "::" if the source was not changed */
  origSrc: string;
  origDst: string;
  spi: number;
  seq: number;
  proto: number;
  ifindex: number;
  tsNs: bigint;
}

export function decodeAncIn(b: Buffer): AncInRecord {
  return {
    origSrc: formatIPv6(b.subarray(0, 16)),
    origDst: formatIPv6(b.subarray(16, 32)),
    spi: b.readUInt32BE(32),
    seq: b.readUInt32BE(36),
    proto: b.readUInt8(40),
    ifindex: b.readUInt32LE(44),
    tsNs: b.readBigUInt64LE(48),
  };
}

export function encodeAncInKey(proto: number, spi: number): Buffer {
  const b = Buffer.alloc(ANC_IN_KEY_SIZE);
  b.writeUInt8(proto, 0);
  b.writeUInt32BE(spi >>> 0, 4);
  return b;
}

export interface DatapathEvent {
  kind: EventKind;
  ifindex: number;
  dir: Dir;
  proto: number;
  dropped: boolean;
  spi: number;
  src: string;
  dst: string;
  tsNs: bigint;
}

export function decodeEvent(b: Buffer): DatapathEvent {
  if (b.length < EVENT_SIZE) throw new Error(`datapath event is ${EVENT_SIZE} bytes, got ${b.length}`);
  return {
    kind: b.readUInt32LE(0) as EventKind,
    ifindex: b.readUInt32LE(4),
    dir: b.readUInt8(8) as Dir,
    proto: b.readUInt8(9),
    dropped: b.readUInt8(10) !== 0,
    spi: b.readUInt32BE(12),
    src: formatIPv6(b.subarray(16, 32)),
    dst: formatIPv6(b.subarray(32, 48)),
    tsNs: b.readBigUInt64LE(48),
  };
}

// ---- verification against BTF ----------------------------------------------------------

/** Expected C layouts: struct -> [size, [member, offset, size]...]. */
export const EXPECTED_STRUCTS: Record<string, { size: number; members: [string, number, number][] }> = {
  iro_rule_key: { size: RULE_KEY_SIZE, members: [['dir', 0, 1], ['proto', 1, 1], ['pad', 2, 2], ['be_spi', 4, 4], ['peer', 8, 16]] },
  iro_rule: {
    size: RULE_SIZE,
    members: [['flags', 0, 4], ['slot', 4, 4], ['oif', 8, 4], ['pad', 12, 4], ['exp_src', 16, 16], ['new_src', 32, 16], ['exp_dst', 48, 16], ['new_dst', 64, 16]],
  },
  iro_rule_stats: { size: RULE_STATS_SIZE, members: [['src_hits', 0, 8], ['src_mismatch', 8, 8], ['dst_hits', 16, 8], ['dst_mismatch', 24, 8]] },
  iro_cfg: {
    size: CFG_SIZE,
    members: [['miss_policy', 0, 4], ['flags', 4, 4], ['mark_mask', 8, 4], ['mark_shift', 12, 4], ['miss_interval_ns', 16, 8], ['frag_ttl_ns', 24, 8]],
  },
  iro_anc_out: { size: ANC_OUT_SIZE, members: [['src', 0, 16], ['dst', 16, 16], ['expires_ns', 32, 8]] },
  iro_anc_in: {
    size: ANC_IN_SIZE,
    members: [['orig_src', 0, 16], ['orig_dst', 16, 16], ['be_spi', 32, 4], ['be_seq', 36, 4], ['proto', 40, 1], ['pad', 41, 3], ['ifindex', 44, 4], ['ts_ns', 48, 8]],
  },
  iro_anc_in_key: { size: ANC_IN_KEY_SIZE, members: [['proto', 0, 1], ['pad', 1, 3], ['be_spi', 4, 4]] },
  iro_event: {
    size: EVENT_SIZE,
    members: [['kind', 0, 4], ['ifindex', 4, 4], ['dir', 8, 1], ['proto', 9, 1], ['dropped', 10, 1], ['pad', 11, 1], ['be_spi', 12, 4], ['src', 16, 16], ['dst', 32, 16], ['ts_ns', 48, 8]],
  },
  iro_addr_key: { size: ADDR_KEY_SIZE, members: [['addr', 0, 16]] },
};

export const EXPECTED_ENUMS: Record<string, Record<string, number>> = {
  iro_dir: { IRO_DIR_IN: Dir.In, IRO_DIR_OUT: Dir.Out },
  iro_rule_flag: {
    IRO_RULE_SRC: RuleFlag.Src,
    IRO_RULE_DST: RuleFlag.Dst,
    IRO_RULE_SRC_WILDCARD: RuleFlag.SrcWildcard,
    IRO_RULE_SRC_ANC: RuleFlag.SrcAnc,
    IRO_RULE_DST_ANC: RuleFlag.DstAnc,
    IRO_RULE_REC_ANC: RuleFlag.RecAnc,
    IRO_RULE_DROP_MISMATCH: RuleFlag.DropMismatch,
  },
  iro_stat: Object.fromEntries([
    ...STAT_NAMES.map((n, i) => [`IRO_STAT_${n.toUpperCase()}`, i] as const),
    ['IRO_STAT__MAX', STAT_NAMES.length] as const,
  ]),
  iro_miss_policy: { IRO_MISS_DROP: MissPolicy.Drop, IRO_MISS_PASS: MissPolicy.Pass },
  iro_cfg_flag: { IRO_CFG_EVENT_MISMATCH: CfgFlag.EventMismatch, IRO_CFG_ANC_IN_MARK: CfgFlag.AncInMark, IRO_CFG_HOA_GUARD: CfgFlag.HoaGuard },
  iro_event_kind: { IRO_EVENT_MISS: EventKind.Miss, IRO_EVENT_MISMATCH: EventKind.Mismatch },
};

/** Every difference between the TS mirror and the object's BTF (empty = in step). */
export function abiDifferences(btf: BtfInfo): string[] {
  const diffs: string[] = [];
  for (const [name, exp] of Object.entries(EXPECTED_STRUCTS)) {
    const s = btf.structs[name];
    if (!s) {
      diffs.push(`struct ${name}: missing from BTF`);
      continue;
    }
    if (s.size !== exp.size) diffs.push(`struct ${name}: size ${s.size} in C, ${exp.size} in TS`);
    const names = s.members.map((m) => m.name);
    const expNames = exp.members.map((m) => m[0]);
    if (names.join(',') !== expNames.join(',')) diffs.push(`struct ${name}: members [${names}] in C, [${expNames}] in TS`);
    for (const [m, off, size] of exp.members) {
      const cm = s.members.find((x) => x.name === m);
      if (!cm) continue;
      if (cm.offset !== off) diffs.push(`struct ${name}.${m}: offset ${cm.offset} in C, ${off} in TS`);
      if (cm.size !== size) diffs.push(`struct ${name}.${m}: size ${cm.size} in C, ${size} in TS`);
    }
  }
  for (const [name, exp] of Object.entries(EXPECTED_ENUMS)) {
    const e = btf.enums[name];
    if (!e) {
      diffs.push(`enum ${name}: missing from BTF`);
      continue;
    }
    const keys = new Set([...Object.keys(e), ...Object.keys(exp)]);
    for (const k of keys) {
      if (e[k] !== exp[k]) diffs.push(`enum ${name}.${k}: ${e[k]} in C, ${exp[k]} in TS`);
    }
  }
  return diffs;
}

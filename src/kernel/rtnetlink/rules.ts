// Policy routing rules: fib_rule_hdr {family, dst_len, src_len, tos, table, res1, res2, action; u32 flags} + FRA_*.
import { attrU32, AttributeSet, readU32 } from '../netlink/attributes.ts';
import { NetlinkParseError, type NetlinkMessage } from '../netlink/message.ts';
import { addressFamily, addressText, attrAddress } from './common.ts';
import * as R from './constants.ts';

export const FIB_RULE_HDR_SIZE = 12;

export interface RuleSpec {
  /** source prefix, e.g. the HoA with srcLen 128 ("from HoA lookup T") */
  src?: string;
  srcLen?: number;
  dst?: string;
  dstLen?: number;
  table: number;
  priority?: number;
  fwmark?: number;
  fwmask?: number;
  family?: number;
}

export interface Rule {
  family: number;
  src?: string;
  srcLen: number;
  dst?: string;
  dstLen: number;
  table: number;
  action: number;
  priority?: number;
}

function ruleHeader(family: number, dstLen: number, srcLen: number, table: number, action: number): Buffer {
  const b = Buffer.alloc(FIB_RULE_HDR_SIZE);
  b.writeUInt8(family, 0);
  b.writeUInt8(dstLen, 1);
  b.writeUInt8(srcLen, 2);
  b.writeUInt8(table < 256 ? table : 0, 4);
  b.writeUInt8(action, 7);
  return b;
}

export function rulePayload(r: RuleSpec): Buffer[] {
  const family = r.family ?? addressFamily(r.src ?? r.dst ?? '::');
  const parts = [ruleHeader(family, r.dst ? (r.dstLen ?? 0) : 0, r.src ? (r.srcLen ?? 0) : 0, r.table, R.FR_ACT_TO_TBL)];
  if (r.src) parts.push(attrAddress(R.FRA_SRC, r.src, family, 'rule src'));
  if (r.dst) parts.push(attrAddress(R.FRA_DST, r.dst, family, 'rule dst'));
  parts.push(attrU32(R.FRA_TABLE, r.table));
  if (r.priority !== undefined) parts.push(attrU32(R.FRA_PRIORITY, r.priority));
  if (r.fwmark !== undefined) parts.push(attrU32(R.FRA_FWMARK, r.fwmark));
  if (r.fwmask !== undefined) parts.push(attrU32(R.FRA_FWMASK, r.fwmask));
  return parts;
}

export function ruleDumpPayload(family: number): Buffer[] {
  return [ruleHeader(family, 0, 0, 0, 0)];
}

export function decodeRule(m: NetlinkMessage): Rule {
  if (m.payload.length < FIB_RULE_HDR_SIZE) throw new NetlinkParseError(`rtnetlink rule: payload is ${m.payload.length} bytes, expected ${FIB_RULE_HDR_SIZE}`, 16, m);
  const p = m.payload;
  const attrs = AttributeSet.parse(p, 'rtnetlink rule attributes', FIB_RULE_HDR_SIZE);
  const t = attrs.first(R.FRA_TABLE);
  const r: Rule = { family: p[0]!, dstLen: p[1]!, srcLen: p[2]!, table: t ? readU32(t, 'FRA_TABLE') : p[4]!, action: p[7]! };
  const src = attrs.first(R.FRA_SRC);
  if (src) r.src = addressText(src.data);
  const dst = attrs.first(R.FRA_DST);
  if (dst) r.dst = addressText(dst.data);
  const prio = attrs.first(R.FRA_PRIORITY);
  if (prio) r.priority = readU32(prio, 'FRA_PRIORITY');
  return r;
}

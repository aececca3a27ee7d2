// XFRM message payloads: model -> bytes for every request we send, bytes -> model for every
// message the kernel sends (replies, dumps, multicast events) and for our own requests (tests
// decode what they encode). Keys are read out of messages only when the caller asks.
import { attr, attrU32, attrU8, AttributeSet, parseAttributes, readU32, readU64, readU8, type NetlinkAttribute } from '../netlink/attributes.ts';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HDRLEN, NLA_TYPE_MASK } from '../netlink/constants.ts';
import { NetlinkParseError, type NetlinkMessage } from '../netlink/message.ts';
import { AF_INET6 } from '../constants.ts';
import { readXfrmAddress, writeXfrmAddress, familyOf } from './address.ts';
import * as C from './constants.ts';
import * as L from './layout.ts';
import * as S from './structs.ts';
import { need, rd16, rd32, readAlgoAt, readId, readLifetimeCfg, readLifetimeCur, readSelector, readStats } from './structs.ts';
import type {
  XfrmAeadAlgo,
  XfrmAuthAlgo,
  XfrmAcquire,
  XfrmMessage,
  XfrmMigrate,
  XfrmPolicy,
  XfrmPolicyId,
  XfrmPolicyInput,
  XfrmSa,
  XfrmSaId,
  XfrmSaInput,
  XfrmSpiRequest,
} from './model.ts';

export interface DecodeOptions {
  /** copy key bytes into SecretKey objects (only the pusher's own checks need this) */
  withKeys?: boolean;
}

// ------------------------------------------------------------------ encoders

export function describeSa(sa: { id: { daddr: string; spi: number; proto: number }; saddr?: string }): string {
  const proto = sa.id.proto === C.IPPROTO_ESP ? 'esp' : sa.id.proto === C.IPPROTO_AH ? 'ah' : `proto ${sa.id.proto}`;
  return `SA ${proto} spi 0x${(sa.id.spi >>> 0).toString(16).padStart(8, '0')} ${sa.saddr ?? '?'} -> ${sa.id.daddr}`;
}

export function describePolicy(p: { selector: Partial<{ saddr: string; daddr: string; prefixlenS: number; prefixlenD: number; proto: number }>; dir: number; index?: number }): string {
  const dir = ['in', 'out', 'fwd'][p.dir] ?? `dir ${p.dir}`;
  const s = p.selector;
  const sel = `${s.saddr ?? '::'}/${s.prefixlenS ?? 0} -> ${s.daddr ?? '::'}/${s.prefixlenD ?? 0}${s.proto ? ` proto ${s.proto}` : ''}`;
  return `policy ${dir} ${sel}${p.index ? ` index ${p.index}` : ''}`;
}

function saFamily(sa: { family?: number; saddr: string; id: { daddr: string } }): number {
  return sa.family ?? familyOf(sa.id.daddr || sa.saddr);
}

/**
 * xfrm_usersa_info for `sa` (also the `info` of ALLOCSPI). Without a selector, sel.family stays
 * AF_UNSPEC as iproute2 sends it; the kernel then gives the selector the SA's family.
 */
export function encodeUsersaInfo(sa: XfrmSaInput, opts: { zeroLifetime?: boolean } = {}): Buffer {
  const b = Buffer.alloc(L.USERSA_INFO.size);
  const family = saFamily(sa);
  const what = describeSa(sa);
  S.writeSelector(b, L.USERSA_INFO.sel, sa.selector ?? {}, sa.selector ? family : 0, what);
  S.writeId(b, L.USERSA_INFO.id, sa.id, family, what);
  writeXfrmAddress(b, L.USERSA_INFO.saddr, sa.saddr, family, `${what} saddr`);
  if (!opts.zeroLifetime) S.writeLifetimeCfg(b, L.USERSA_INFO.lft, sa.lifetime);
  b.writeUInt32LE((sa.seq ?? 0) >>> 0, L.USERSA_INFO.seq);
  b.writeUInt32LE((sa.reqid ?? 0) >>> 0, L.USERSA_INFO.reqid);
  b.writeUInt16LE(family, L.USERSA_INFO.family);
  b.writeUInt8(sa.mode ?? C.XFRM_MODE_TRANSPORT, L.USERSA_INFO.mode);
  b.writeUInt8(sa.replayWindow ?? 0, L.USERSA_INFO.replay_window);
  b.writeUInt8(sa.flags ?? 0, L.USERSA_INFO.flags);
  return b;
}

function markAttrs(m: { mark?: { value: number; mask: number }; ifId?: number }): Buffer[] {
  const out: Buffer[] = [];
  if (m.mark) out.push(attr(C.XFRMA_MARK, S.encodeMark(m.mark)));
  if (m.ifId !== undefined) out.push(attrU32(C.XFRMA_IF_ID, m.ifId));
  return out;
}

/** NEWSA / UPDSA payload: xfrm_usersa_info + algorithms and options (iproute2's attribute order). */
export function encodeSaPayload(sa: XfrmSaInput): Buffer[] {
  const what = describeSa(sa);
  const parts: Buffer[] = [encodeUsersaInfo(sa)];
  if (sa.auth) {
    if (sa.auth.truncBits === undefined) parts.push(attr(C.XFRMA_ALG_AUTH, S.encodeAlgo(sa.auth, `${what} auth`)));
    else parts.push(attr(C.XFRMA_ALG_AUTH_TRUNC, S.encodeAlgoAuth({ ...sa.auth, truncBits: sa.auth.truncBits }, `${what} auth`)));
  }
  if (sa.crypt) parts.push(attr(C.XFRMA_ALG_CRYPT, S.encodeAlgo(sa.crypt, `${what} enc`)));
  if (sa.aead) parts.push(attr(C.XFRMA_ALG_AEAD, S.encodeAlgoAead(sa.aead, `${what} aead`)));
  if (sa.comp) parts.push(attr(C.XFRMA_ALG_COMP, S.encodeAlgo(sa.comp, `${what} comp`)));
  parts.push(...markAttrs(sa));
  if (sa.setMark) {
    parts.push(attrU32(C.XFRMA_SET_MARK, sa.setMark.value));
    if (sa.setMark.mask !== undefined) parts.push(attrU32(C.XFRMA_SET_MARK_MASK, sa.setMark.mask));
  }
  if (sa.replay) parts.push(attr(C.XFRMA_REPLAY_VAL, S.encodeReplayState(sa.replay)));
  if (sa.extraFlags !== undefined) parts.push(attrU32(C.XFRMA_SA_EXTRA_FLAGS, sa.extraFlags));
  if (sa.tfcpad !== undefined) parts.push(attrU32(C.XFRMA_TFCPAD, sa.tfcpad));
  if (sa.direction !== undefined) parts.push(attrU8(C.XFRMA_SA_DIR, sa.direction));
  return parts;
}

/** GETSA / DELSA payload: xfrm_usersa_id (+ source address, mark, if_id). */
export function encodeSaIdPayload(id: XfrmSaId): Buffer[] {
  const b = Buffer.alloc(L.USERSA_ID.size);
  const family = id.family;
  writeXfrmAddress(b, L.USERSA_ID.daddr, id.daddr, family, 'SA id daddr');
  b.writeUInt32BE(id.spi >>> 0, L.USERSA_ID.spi);
  b.writeUInt16LE(family, L.USERSA_ID.family);
  b.writeUInt8(id.proto, L.USERSA_ID.proto);
  const parts: Buffer[] = [b];
  if (id.saddr !== undefined) parts.push(attr(C.XFRMA_SRCADDR, S.encodeAddress(id.saddr, family, 'SA id saddr')));
  parts.push(...markAttrs(id));
  return parts;
}

/** ALLOCSPI payload: xfrm_userspi_info {info, min, max}. */
export function encodeAllocSpiPayload(r: XfrmSpiRequest): Buffer[] {
  const b = Buffer.alloc(L.USERSPI_INFO.size);
  const info: XfrmSaInput = { id: { daddr: r.id.daddr, spi: 0, proto: r.id.proto }, saddr: r.saddr, family: r.family };
  if (r.mode !== undefined) info.mode = r.mode;
  if (r.reqid !== undefined) info.reqid = r.reqid;
  if (r.seq !== undefined) info.seq = r.seq;
  if (r.selector) info.selector = r.selector;
  // a larval SA has no lifetime of its own: iproute2 leaves it zero, so do we
  encodeUsersaInfo(info, { zeroLifetime: true }).copy(b, L.USERSPI_INFO.info);
  b.writeUInt32LE(r.min >>> 0, L.USERSPI_INFO.min);
  b.writeUInt32LE(r.max >>> 0, L.USERSPI_INFO.max);
  const parts: Buffer[] = [b, ...markAttrs(r)];
  if (r.direction !== undefined) parts.push(attrU8(C.XFRMA_SA_DIR, r.direction));
  return parts;
}

/** FLUSHSA payload: xfrm_usersa_flush {u8 proto}; 0 (iproute2's default) flushes every SA, IPSEC_PROTO_ANY only ESP/AH/IPcomp. */
export function encodeFlushSaPayload(proto = 0): Buffer[] {
  return [Buffer.from([proto])];
}

function policyTypeAttr(type: number | undefined): Buffer[] {
  return type === undefined ? [] : [attr(C.XFRMA_POLICY_TYPE, S.encodePolicyType(type))];
}

export function encodeUserpolicyInfo(p: XfrmPolicyInput): Buffer {
  const b = Buffer.alloc(L.USERPOLICY_INFO.size);
  writeUserpolicyInfo(b, p, describePolicy(p));
  return b;
}

function writeUserpolicyInfo(b: Buffer, p: XfrmPolicyInput, what: string): void {
  S.writeSelector(b, L.USERPOLICY_INFO.sel, p.selector, p.selector.family, what);
  S.writeLifetimeCfg(b, L.USERPOLICY_INFO.lft, p.lifetime);
  b.writeUInt32LE((p.priority ?? 0) >>> 0, L.USERPOLICY_INFO.priority);
  b.writeUInt32LE((p.index ?? 0) >>> 0, L.USERPOLICY_INFO.index);
  b.writeUInt8(p.dir, L.USERPOLICY_INFO.dir);
  b.writeUInt8(p.action ?? C.XFRM_POLICY_ALLOW, L.USERPOLICY_INFO.action);
  b.writeUInt8(p.flags ?? 0, L.USERPOLICY_INFO.flags);
  b.writeUInt8(p.share ?? 0, L.USERPOLICY_INFO.share);
}

/**
 * NEWPOLICY / UPDPOLICY payload: xfrm_userpolicy_info + templates, mark, if_id, policy type.
 * The info and the templates are written into one buffer (a push sends thousands of these).
 */
export function encodePolicyPayload(p: XfrmPolicyInput): Buffer[] {
  const what = describePolicy(p);
  const tmpls = p.templates ?? [];
  const infoSize = L.USERPOLICY_INFO.size;
  const tmplLen = tmpls.length ? NLA_HDRLEN + tmpls.length * L.USER_TMPL.size : 0;
  // too many templates for one attribute: the part-by-part encoder reports it (after any other error)
  if (tmplLen > 0xffff) return [encodeUserpolicyInfo(p), attr(C.XFRMA_TMPL, Buffer.concat(tmpls.map((t) => S.encodeTemplate(t, p.selector.family, what))))];
  const b = Buffer.alloc(infoSize + tmplLen);
  writeUserpolicyInfo(b, p, what);
  if (tmplLen) {
    b.writeUInt16LE(tmplLen, infoSize);
    b.writeUInt16LE(C.XFRMA_TMPL, infoSize + 2);
    for (let i = 0; i < tmpls.length; i++) S.writeTemplate(b, infoSize + NLA_HDRLEN + i * L.USER_TMPL.size, tmpls[i]!, p.selector.family, what);
  }
  if (p.mark === undefined && p.ifId === undefined && p.type === undefined) return [b];
  return [b, ...markAttrs(p), ...policyTypeAttr(p.type)];
}

export function encodeUserpolicyId(id: XfrmPolicyId): Buffer {
  const b = Buffer.alloc(L.USERPOLICY_ID.size);
  S.writeSelector(b, L.USERPOLICY_ID.sel, id.selector, id.selector.family, describePolicy(id));
  b.writeUInt32LE((id.index ?? 0) >>> 0, L.USERPOLICY_ID.index);
  b.writeUInt8(id.dir, L.USERPOLICY_ID.dir);
  return b;
}

/** GETPOLICY / DELPOLICY payload: xfrm_userpolicy_id (+ mark, if_id, policy type). */
export function encodePolicyIdPayload(id: XfrmPolicyId): Buffer[] {
  return [encodeUserpolicyId(id), ...markAttrs(id), ...policyTypeAttr(id.type)];
}

/** FLUSHPOLICY payload: nothing, or the policy type to flush. */
export function encodeFlushPolicyPayload(type?: number): Buffer[] {
  return policyTypeAttr(type);
}

/** MIGRATE payload: the policy's id, one XFRMA_MIGRATE array, optional KMADDRESS. */
export function encodeMigratePayload(m: XfrmMigrate): Buffer[] {
  if (!m.entries.length) throw new Error(`migrate ${describePolicy(m.policy)}: no entries`);
  const parts: Buffer[] = [encodeUserpolicyId(m.policy), attr(C.XFRMA_MIGRATE, S.encodeMigrateEntries(m.entries))];
  if (m.kmaddress) parts.push(attr(C.XFRMA_KMADDRESS, S.encodeKmAddress(m.kmaddress)));
  parts.push(...policyTypeAttr(m.policy.type));
  return parts;
}

// ------------------------------------------------------------------ decoders

function fixed(m: NetlinkMessage, size: number, what: string): Buffer {
  if (m.payload.length < size) {
    throw new NetlinkParseError(`xfrm ${what} (seq ${m.seq}): payload is ${m.payload.length} bytes, expected at least ${size}`, 16, m);
  }
  return m.payload;
}

function attrsAfter(m: NetlinkMessage, size: number, what: string): AttributeSet {
  try {
    return AttributeSet.parse(m.payload, `xfrm ${what} (seq ${m.seq}) attributes`, L_ALIGN(size));
  } catch (e) {
    if (e instanceof NetlinkParseError) throw new NetlinkParseError(e.message, e.offset + 16, m);
    throw e;
  }
}

function L_ALIGN(n: number): number {
  return (n + 3) & ~3;
}

// Offsets of xfrm_usersa_info as plain constants: the SA decoder runs once per SA of a dump.
const SA = L.USERSA_INFO;
const [SA_SIZE, SA_SEL, SA_ID, SA_SADDR, SA_LFT, SA_CURLFT, SA_STATS, SA_SEQ, SA_REQID, SA_FAMILY, SA_MODE, SA_RW, SA_FLAGS] = [
  SA.size, SA.sel, SA.id, SA.saddr, SA.lft, SA.curlft, SA.stats, SA.seq, SA.reqid, SA.family, SA.mode, SA.replay_window, SA.flags,
] as const;

/** Decode xfrm_usersa_info at buf[off] (attributes are applied separately). */
export function decodeUsersaInfo(buf: Buffer, off = 0): XfrmSa {
  need(buf, off, SA_SIZE, 'xfrm_usersa_info');
  const family = rd16(buf, off + SA_FAMILY);
  return {
    selector: readSelector(buf, off + SA_SEL),
    id: readId(buf, off + SA_ID, family),
    saddr: readXfrmAddress(buf, off + SA_SADDR, family),
    lifetime: readLifetimeCfg(buf, off + SA_LFT),
    current: readLifetimeCur(buf, off + SA_CURLFT),
    stats: readStats(buf, off + SA_STATS),
    seq: rd32(buf, off + SA_SEQ),
    reqid: rd32(buf, off + SA_REQID),
    family,
    mode: buf[off + SA_MODE]!,
    replayWindow: buf[off + SA_RW]!,
    flags: buf[off + SA_FLAGS]!,
    otherAttributes: [],
  };
}

const SA_IGNORED = new Set([C.XFRMA_PAD, C.XFRMA_SA]);

function applySaAttributes(sa: XfrmSa, attrs: NetlinkAttribute[], what: string, o: DecodeOptions): void {
  const keys = o.withKeys === true;
  for (const a of attrs) {
    switch (a.type) {
      case C.XFRMA_ALG_AUTH_TRUNC:
        sa.auth = S.readAlgoAuth(a.data, `${what} XFRMA_ALG_AUTH_TRUNC`, keys);
        break;
      case C.XFRMA_ALG_AUTH:
        // The kernel sends both forms; the truncated one carries more information.
        if (!sa.auth) sa.auth = S.readAlgo(a.data, `${what} XFRMA_ALG_AUTH`, keys);
        break;
      case C.XFRMA_ALG_CRYPT:
        sa.crypt = S.readAlgo(a.data, `${what} XFRMA_ALG_CRYPT`, keys);
        break;
      case C.XFRMA_ALG_AEAD:
        sa.aead = S.readAlgoAead(a.data, `${what} XFRMA_ALG_AEAD`, keys);
        break;
      case C.XFRMA_ALG_COMP:
        sa.comp = S.readAlgo(a.data, `${what} XFRMA_ALG_COMP`, keys);
        break;
      case C.XFRMA_MARK:
        sa.mark = S.readMark(a.data, what);
        break;
      case C.XFRMA_SET_MARK:
        sa.setMark = { ...sa.setMark, value: readU32(a, `${what} XFRMA_SET_MARK`) };
        break;
      case C.XFRMA_SET_MARK_MASK:
        sa.setMark = { value: sa.setMark?.value ?? 0, mask: readU32(a, `${what} XFRMA_SET_MARK_MASK`) };
        break;
      case C.XFRMA_IF_ID:
        sa.ifId = readU32(a, `${what} XFRMA_IF_ID`);
        break;
      case C.XFRMA_SA_DIR:
        sa.direction = readU8(a, `${what} XFRMA_SA_DIR`);
        break;
      case C.XFRMA_REPLAY_VAL:
        sa.replay = S.readReplayState(a.data, what);
        break;
      case C.XFRMA_LTIME_VAL:
        sa.currentValue = S.readLifetimeCur(a.data, 0);
        break;
      case C.XFRMA_SRCADDR:
        S.need(a.data, 0, 16, `${what} XFRMA_SRCADDR`);
        sa.srcaddr = readXfrmAddress(a.data, 0, sa.family);
        break;
      case C.XFRMA_COADDR:
        S.need(a.data, 0, 16, `${what} XFRMA_COADDR`);
        sa.coaddr = readXfrmAddress(a.data, 0, sa.family);
        break;
      case C.XFRMA_LASTUSED:
        sa.lastUsed = readU64(a, `${what} XFRMA_LASTUSED`);
        break;
      case C.XFRMA_SA_EXTRA_FLAGS:
        sa.extraFlags = readU32(a, `${what} XFRMA_SA_EXTRA_FLAGS`);
        break;
      case C.XFRMA_TFCPAD:
        sa.tfcpad = readU32(a, `${what} XFRMA_TFCPAD`);
        break;
      default:
        if (!SA_IGNORED.has(a.type)) sa.otherAttributes.push(a.type);
    }
  }
}

export function decodeUserpolicyInfo(buf: Buffer, off = 0): XfrmPolicy {
  S.need(buf, off, L.USERPOLICY_INFO.size, 'xfrm_userpolicy_info');
  return {
    selector: S.readSelector(buf, off + L.USERPOLICY_INFO.sel),
    lifetime: S.readLifetimeCfg(buf, off + L.USERPOLICY_INFO.lft),
    current: S.readLifetimeCur(buf, off + L.USERPOLICY_INFO.curlft),
    priority: buf.readUInt32LE(off + L.USERPOLICY_INFO.priority),
    index: buf.readUInt32LE(off + L.USERPOLICY_INFO.index),
    dir: buf[off + L.USERPOLICY_INFO.dir]!,
    action: buf[off + L.USERPOLICY_INFO.action]!,
    flags: buf[off + L.USERPOLICY_INFO.flags]!,
    share: buf[off + L.USERPOLICY_INFO.share]!,
    templates: [],
    otherAttributes: [],
  };
}

function readPolicyType(a: NetlinkAttribute, what: string): number {
  S.need(a.data, 0, 1, `${what} XFRMA_POLICY_TYPE`);
  return a.data[L.USERPOLICY_TYPE.type]!;
}

const POLICY_IGNORED = new Set([C.XFRMA_PAD, C.XFRMA_POLICY]);

function applyPolicyAttributes(p: XfrmPolicy, attrs: NetlinkAttribute[], what: string): void {
  for (const a of attrs) {
    switch (a.type) {
      case C.XFRMA_TMPL:
        p.templates.push(...S.readTemplates(a.data, what));
        break;
      case C.XFRMA_MARK:
        p.mark = S.readMark(a.data, what);
        break;
      case C.XFRMA_IF_ID:
        p.ifId = readU32(a, `${what} XFRMA_IF_ID`);
        break;
      case C.XFRMA_POLICY_TYPE:
        p.type = readPolicyType(a, what);
        break;
      default:
        if (!POLICY_IGNORED.has(a.type)) p.otherAttributes.push(a.type);
    }
  }
}

function decodeUsersaId(buf: Buffer, attrs: AttributeSet, what: string): XfrmSaId {
  const family = buf.readUInt16LE(L.USERSA_ID.family);
  const id: XfrmSaId = {
    daddr: readXfrmAddress(buf, L.USERSA_ID.daddr, family),
    spi: buf.readUInt32BE(L.USERSA_ID.spi),
    family,
    proto: buf[L.USERSA_ID.proto]!,
  };
  const src = attrs.first(C.XFRMA_SRCADDR);
  if (src) {
    S.need(src.data, 0, 16, `${what} XFRMA_SRCADDR`);
    id.saddr = readXfrmAddress(src.data, 0, family);
  }
  const mark = attrs.first(C.XFRMA_MARK);
  if (mark) id.mark = S.readMark(mark.data, what);
  const ifId = attrs.first(C.XFRMA_IF_ID);
  if (ifId) id.ifId = readU32(ifId, `${what} XFRMA_IF_ID`);
  return id;
}

function decodeUserpolicyId(buf: Buffer, attrs: AttributeSet, what: string): XfrmPolicyId {
  const id: XfrmPolicyId = {
    selector: S.readSelector(buf, L.USERPOLICY_ID.sel),
    index: buf.readUInt32LE(L.USERPOLICY_ID.index),
    dir: buf[L.USERPOLICY_ID.dir]!,
  };
  const mark = attrs.first(C.XFRMA_MARK);
  if (mark) id.mark = S.readMark(mark.data, what);
  const ifId = attrs.first(C.XFRMA_IF_ID);
  if (ifId) id.ifId = readU32(ifId, `${what} XFRMA_IF_ID`);
  const pt = attrs.first(C.XFRMA_POLICY_TYPE);
  if (pt) id.type = readPolicyType(pt, what);
  return id;
}

const ALGO_SIZE = L.ALGO.size;
const ALGO_KEYLEN = L.ALGO.alg_key_len;
const ALGO_AUTH_KEYLEN = L.ALGO_AUTH.alg_key_len;
const ALGO_AEAD_KEYLEN = L.ALGO_AEAD.alg_key_len;
const ALGO_AUTH_SIZE = L.ALGO_AUTH.size;
const ALGO_AUTH_TRUNC = L.ALGO_AUTH.alg_trunc_len;
const ALGO_AEAD_SIZE = L.ALGO_AEAD.size;
const ALGO_AEAD_ICV = L.ALGO_AEAD.alg_icv_len;
const REPLAY_SIZE = L.REPLAY_STATE.size;
const REPLAY_OSEQ = L.REPLAY_STATE.oseq;
const REPLAY_SEQ = L.REPLAY_STATE.seq;
const REPLAY_BITMAP = L.REPLAY_STATE.bitmap;
const LIFETIME_CUR_SIZE = L.LIFETIME_CUR.size;
const MARK_SIZE = L.MARK.size;
const MARK_V = L.MARK.v;
const MARK_M = L.MARK.m;
const A_AUTH_TRUNC = C.XFRMA_ALG_AUTH_TRUNC;
const A_AUTH = C.XFRMA_ALG_AUTH;
const A_CRYPT = C.XFRMA_ALG_CRYPT;
const A_AEAD = C.XFRMA_ALG_AEAD;
const A_COMP = C.XFRMA_ALG_COMP;
const A_MARK = C.XFRMA_MARK;
const A_REPLAY = C.XFRMA_REPLAY_VAL;
const A_LTIME = C.XFRMA_LTIME_VAL;
const A_LASTUSED = C.XFRMA_LASTUSED;
const A_EXTRA = C.XFRMA_SA_EXTRA_FLAGS;
const A_PAD = C.XFRMA_PAD;
const A_SA = C.XFRMA_SA;

/**
 * One attribute of an SA message read in place (no attribute object, no view) when it is well
 * formed and one of the kinds SA dumps carry; false sends it through applySaAttributes, which
 * handles every other kind and throws the precise error for a malformed one.
 */
function applySaAttributeFast(sa: XfrmSa, type: number, p: Buffer, start: number, end: number, keys: boolean): boolean {
  const len = end - start;
  switch (type) {
    case A_AUTH_TRUNC: {
      const a = readAlgoAt(p, start, end, ALGO_AUTH_SIZE, ALGO_AUTH_KEYLEN, keys) as XfrmAuthAlgo | null;
      if (!a) return false;
      a.truncBits = rd32(p, start + ALGO_AUTH_TRUNC);
      sa.auth = a;
      return true;
    }
    case A_AUTH: {
      if (sa.auth) return true;
      const a = readAlgoAt(p, start, end, ALGO_SIZE, ALGO_KEYLEN, keys);
      if (!a) return false;
      sa.auth = a;
      return true;
    }
    case A_CRYPT: {
      const a = readAlgoAt(p, start, end, ALGO_SIZE, ALGO_KEYLEN, keys);
      if (!a) return false;
      sa.crypt = a;
      return true;
    }
    case A_COMP: {
      const a = readAlgoAt(p, start, end, ALGO_SIZE, ALGO_KEYLEN, keys);
      if (!a) return false;
      sa.comp = a;
      return true;
    }
    case A_AEAD: {
      const a = readAlgoAt(p, start, end, ALGO_AEAD_SIZE, ALGO_AEAD_KEYLEN, keys) as XfrmAeadAlgo | null;
      if (!a) return false;
      a.icvBits = rd32(p, start + ALGO_AEAD_ICV);
      sa.aead = a;
      return true;
    }
    case A_REPLAY:
      if (len < REPLAY_SIZE) return false;
      sa.replay = { oseq: rd32(p, start + REPLAY_OSEQ), seq: rd32(p, start + REPLAY_SEQ), bitmap: rd32(p, start + REPLAY_BITMAP) };
      return true;
    case A_LTIME:
      if (len < LIFETIME_CUR_SIZE) return false;
      sa.currentValue = readLifetimeCur(p, start);
      return true;
    case A_LASTUSED:
      if (len < 8) return false;
      sa.lastUsed = p.readBigUInt64LE(start);
      return true;
    case A_EXTRA:
      if (len < 4) return false;
      sa.extraFlags = rd32(p, start);
      return true;
    case A_MARK:
      if (len < MARK_SIZE) return false;
      sa.mark = { value: rd32(p, start + MARK_V), mask: rd32(p, start + MARK_M) };
      return true;
    case A_PAD:
    case A_SA:
      return true;
    default:
      return false;
  }
}

function decodeSaMessage(m: NetlinkMessage, what: string, o: DecodeOptions): XfrmSa {
  const p = fixed(m, SA_SIZE, what);
  const sa = decodeUsersaInfo(p, 0);
  // hot path (SA dumps): check the attribute framing first (the generic parser reports any
  // problem), then read each attribute in place; the SA is named only if something fails
  const end = p.length;
  let off = SA_SIZE;
  while (off < end) {
    const rest = end - off;
    const len = rest < NLA_HDRLEN ? 0 : rd16(p, off);
    if (len < NLA_HDRLEN || len > rest) {
      try {
        parseAttributes(p, `xfrm ${what} (seq ${m.seq}) attributes`, SA_SIZE);
      } catch (e) {
        if (e instanceof NetlinkParseError) throw new NetlinkParseError(`${e.message} (${describeSa(sa)})`, e.offset + 16, m);
        throw e;
      }
      break;
    }
    off += Math.min((len + 3) & ~3, rest);
  }
  const keys = o.withKeys === true;
  off = SA_SIZE;
  while (off < end) {
    const len = rd16(p, off);
    const rawType = rd16(p, off + 2);
    const type = rawType & NLA_TYPE_MASK;
    if (!applySaAttributeFast(sa, type, p, off + NLA_HDRLEN, off + len, keys)) {
      const a: NetlinkAttribute = {
        type,
        nested: (rawType & NLA_F_NESTED) !== 0,
        netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
        data: p.subarray(off + NLA_HDRLEN, off + len),
        offset: off,
      };
      try {
        applySaAttributes(sa, [a], `xfrm ${what}`, o);
      } catch (e) {
        if (e instanceof NetlinkParseError) e.message = `${e.message} (${describeSa(sa)})`;
        throw e;
      }
    }
    off += Math.min((len + 3) & ~3, end - off);
  }
  return sa;
}

const NO_OPTIONS: DecodeOptions = Object.freeze({});
const MSG_NEWSA = C.XFRM_MSG_NEWSA;
const MSG_UPDSA = C.XFRM_MSG_UPDSA;

/**
 * Decode any XFRM message. Throws NetlinkParseError (never anything else for bad bytes) when the
 * message is malformed; unknown message types decode as kind 'other'.
 */
export function decodeXfrmMessage(m: NetlinkMessage, o: DecodeOptions = NO_OPTIONS): XfrmMessage {
  const t = m.type;
  if (t === MSG_NEWSA || t === MSG_UPDSA) {
    const name = t === MSG_NEWSA ? 'NEWSA' : 'UPDSA';
    try {
      return { seq: m.seq, pid: m.pid, flags: m.flags, kind: t === MSG_NEWSA ? 'newsa' : 'updsa', sa: decodeSaMessage(m, name, o) };
    } catch (e) {
      throw decodeError(e, name, m);
    }
  }
  return decodeOther(m, o);
}

/** Errors out of a decoder: always a NetlinkParseError naming the message. */
function decodeError(e: unknown, name: string, m: NetlinkMessage): Error {
  if (e instanceof NetlinkParseError) {
    if (!e.message.startsWith('xfrm')) e.message = `xfrm ${name} (seq ${m.seq}): ${e.message}`;
    return e;
  }
  // a RangeError from a Buffer read means a length we did not check: still a parse error
  return new NetlinkParseError(`xfrm ${name} (seq ${m.seq}): ${(e as Error).message}`, 16, m);
}

/** Every message but NEWSA/UPDSA. */
function decodeOther(m: NetlinkMessage, o: DecodeOptions): XfrmMessage {
  const h = { seq: m.seq, pid: m.pid, flags: m.flags };
  const name = C.XFRM_MSG_NAMES[m.type] ?? `type ${m.type}`;
  try {
    switch (m.type) {
      case C.XFRM_MSG_DELSA:
      case C.XFRM_MSG_GETSA: {
        const p = fixed(m, L.USERSA_ID.size, name);
        const attrs = attrsAfter(m, L.USERSA_ID.size, name);
        const id = decodeUsersaId(p, attrs, `xfrm ${name}`);
        if (m.type === C.XFRM_MSG_GETSA) return { ...h, kind: 'getsa', id };
        const saAttr = attrs.first(C.XFRMA_SA);
        if (!saAttr) return { ...h, kind: 'delsa', id };
        // Kernel DELSA events: the full SA is in XFRMA_SA, its extras (keys too) at top level.
        const sa = decodeUsersaInfo(saAttr.data, 0);
        applySaAttributes(sa, attrs.list.filter((a) => a.type !== C.XFRMA_SRCADDR || sa.srcaddr === undefined), `xfrm ${name} ${describeSa(sa)}`, o);
        return { ...h, kind: 'delsa', id, sa };
      }
      case C.XFRM_MSG_ALLOCSPI: {
        const p = fixed(m, L.USERSPI_INFO.size, name);
        const info = decodeUsersaInfo(p, L.USERSPI_INFO.info);
        const attrs = attrsAfter(m, L.USERSPI_INFO.size, name);
        const request: XfrmSpiRequest = {
          id: { daddr: info.id.daddr, proto: info.id.proto },
          saddr: info.saddr,
          family: info.family,
          mode: info.mode,
          reqid: info.reqid,
          seq: info.seq,
          selector: info.selector,
          min: p.readUInt32LE(L.USERSPI_INFO.min),
          max: p.readUInt32LE(L.USERSPI_INFO.max),
        };
        const mark = attrs.first(C.XFRMA_MARK);
        if (mark) request.mark = S.readMark(mark.data, name);
        const ifId = attrs.first(C.XFRMA_IF_ID);
        if (ifId) request.ifId = readU32(ifId, `${name} XFRMA_IF_ID`);
        const dir = attrs.first(C.XFRMA_SA_DIR);
        if (dir) request.direction = readU8(dir, `${name} XFRMA_SA_DIR`);
        return { ...h, kind: 'allocspi', request };
      }
      case C.XFRM_MSG_EXPIRE: {
        const p = fixed(m, L.USER_EXPIRE.size, name);
        const sa = decodeUsersaInfo(p, L.USER_EXPIRE.state);
        applySaAttributes(sa, attrsAfter(m, L.USER_EXPIRE.size, name).list, `xfrm ${name} ${describeSa(sa)}`, o);
        return { ...h, kind: 'expire', sa, hard: p[L.USER_EXPIRE.hard] !== 0 };
      }
      case C.XFRM_MSG_ACQUIRE:
        return { ...h, kind: 'acquire', acquire: decodeAcquire(m, name) };
      case C.XFRM_MSG_FLUSHSA: {
        const p = fixed(m, L.USERSA_FLUSH.size, name);
        return { ...h, kind: 'flushsa', proto: p[L.USERSA_FLUSH.proto]! };
      }
      case C.XFRM_MSG_NEWPOLICY:
      case C.XFRM_MSG_UPDPOLICY: {
        const p = fixed(m, L.USERPOLICY_INFO.size, name);
        const policy = decodeUserpolicyInfo(p, 0);
        applyPolicyAttributes(policy, attrsAfter(m, L.USERPOLICY_INFO.size, name).list, `xfrm ${name} ${describePolicy(policy)}`);
        return { ...h, kind: m.type === C.XFRM_MSG_NEWPOLICY ? 'newpolicy' : 'updpolicy', policy };
      }
      case C.XFRM_MSG_DELPOLICY:
      case C.XFRM_MSG_GETPOLICY: {
        const p = fixed(m, L.USERPOLICY_ID.size, name);
        const attrs = attrsAfter(m, L.USERPOLICY_ID.size, name);
        const id = decodeUserpolicyId(p, attrs, `xfrm ${name}`);
        if (m.type === C.XFRM_MSG_GETPOLICY) return { ...h, kind: 'getpolicy', id };
        const polAttr = attrs.first(C.XFRMA_POLICY);
        if (!polAttr) return { ...h, kind: 'delpolicy', id };
        const policy = decodeUserpolicyInfo(polAttr.data, 0);
        applyPolicyAttributes(policy, attrs.list, `xfrm ${name} ${describePolicy(policy)}`);
        return { ...h, kind: 'delpolicy', id, policy };
      }
      case C.XFRM_MSG_POLEXPIRE: {
        const p = fixed(m, L.USER_POLEXPIRE.size, name);
        const policy = decodeUserpolicyInfo(p, L.USER_POLEXPIRE.pol);
        applyPolicyAttributes(policy, attrsAfter(m, L.USER_POLEXPIRE.size, name).list, `xfrm ${name} ${describePolicy(policy)}`);
        return { ...h, kind: 'polexpire', policy, hard: p[L.USER_POLEXPIRE.hard] !== 0 };
      }
      case C.XFRM_MSG_FLUSHPOLICY: {
        const attrs = attrsAfter(m, 0, name);
        const pt = attrs.first(C.XFRMA_POLICY_TYPE);
        return pt ? { ...h, kind: 'flushpolicy', policyType: readPolicyType(pt, name) } : { ...h, kind: 'flushpolicy' };
      }
      case C.XFRM_MSG_MIGRATE:
        return { ...h, kind: 'migrate', migrate: decodeMigrate(m, name) };
      default:
        return { ...h, kind: 'other', type: m.type, length: m.payload.length + 16 };
    }
  } catch (e) {
    throw decodeError(e, name, m);
  }
}

function decodeAcquire(m: NetlinkMessage, name: string): XfrmAcquire {
  const p = fixed(m, L.USER_ACQUIRE.size, name);
  const family = p.readUInt16LE(L.USER_ACQUIRE.policy + L.USERPOLICY_INFO.sel + L.SELECTOR.family) || AF_INET6;
  const selector = S.readSelector(p, L.USER_ACQUIRE.sel);
  const idFamily = selector.family || family;
  const acq: XfrmAcquire = {
    id: S.readId(p, L.USER_ACQUIRE.id, idFamily),
    saddr: readXfrmAddress(p, L.USER_ACQUIRE.saddr, idFamily),
    selector,
    policy: decodeUserpolicyInfo(p, L.USER_ACQUIRE.policy),
    aalgos: p.readUInt32LE(L.USER_ACQUIRE.aalgos),
    ealgos: p.readUInt32LE(L.USER_ACQUIRE.ealgos),
    calgos: p.readUInt32LE(L.USER_ACQUIRE.calgos),
    seq: p.readUInt32LE(L.USER_ACQUIRE.seq),
    templates: [],
  };
  for (const a of attrsAfter(m, L.USER_ACQUIRE.size, name).list) {
    if (a.type === C.XFRMA_TMPL) acq.templates.push(...S.readTemplates(a.data, `xfrm ${name}`));
    else if (a.type === C.XFRMA_MARK) acq.mark = S.readMark(a.data, name);
    else if (a.type === C.XFRMA_IF_ID) acq.ifId = readU32(a, `${name} XFRMA_IF_ID`);
    else if (a.type === C.XFRMA_POLICY_TYPE) acq.policyType = readPolicyType(a, name);
  }
  acq.policy.templates = acq.templates;
  if (acq.policyType !== undefined) acq.policy.type = acq.policyType;
  return acq;
}

function decodeMigrate(m: NetlinkMessage, name: string): XfrmMigrate {
  const p = fixed(m, L.USERPOLICY_ID.size, name);
  const attrs = attrsAfter(m, L.USERPOLICY_ID.size, name);
  const mig: XfrmMigrate = { policy: decodeUserpolicyId(p, attrs, `xfrm ${name}`), entries: [] };
  // requests carry one XFRMA_MIGRATE array; kernel events one attribute per entry
  for (const a of attrs.all(C.XFRMA_MIGRATE)) mig.entries.push(...S.readMigrateEntries(a.data, `xfrm ${name}`));
  const km = attrs.first(C.XFRMA_KMADDRESS);
  if (km) mig.kmaddress = S.readKmAddress(km.data, name);
  return mig;
}

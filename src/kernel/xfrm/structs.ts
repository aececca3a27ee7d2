// Encoders and decoders of the fixed XFRM structures (layout.ts has the offsets). Pure
// functions over Buffers; every decoder checks the length it is given first.
import { NetlinkParseError } from '../netlink/message.ts';
import { AF_INET6 } from '../constants.ts';
import { readXfrmAddress, writeXfrmAddress } from './address.ts';
import * as L from './layout.ts';
import { XFRM_INF } from './constants.ts';
import { SecretKey } from './secret-key.ts';
import type {
  XfrmAeadAlgo,
  XfrmAlgo,
  XfrmAuthAlgo,
  XfrmId,
  XfrmKmAddress,
  XfrmLifetimeCfg,
  XfrmLifetimeCur,
  XfrmMark,
  XfrmMigrateEntry,
  XfrmReplayState,
  XfrmSelector,
  XfrmStats,
  XfrmTemplate,
  XfrmTemplateInput,
} from './model.ts';

// Unchecked little-/big-endian reads for the decoders' hot paths: Buffer's readUInt* validate
// their argument and bounds on every call. Callers check the structure's length first (need).
export function rd16(b: Buffer, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
export function rd16be(b: Buffer, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
export function rd32(b: Buffer, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}
export function rd32be(b: Buffer, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}
function rds32(b: Buffer, o: number): number {
  return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
}

// Layout offsets as plain constants (each `L.X.y` is two property loads per read).
const SEL_DADDR = L.SELECTOR.daddr;
const SEL_SADDR = L.SELECTOR.saddr;
const SEL_DPORT = L.SELECTOR.dport;
const SEL_DPORT_MASK = L.SELECTOR.dport_mask;
const SEL_SPORT = L.SELECTOR.sport;
const SEL_SPORT_MASK = L.SELECTOR.sport_mask;
const SEL_FAMILY = L.SELECTOR.family;
const SEL_PLEN_D = L.SELECTOR.prefixlen_d;
const SEL_PLEN_S = L.SELECTOR.prefixlen_s;
const SEL_PROTO = L.SELECTOR.proto;
const SEL_IFINDEX = L.SELECTOR.ifindex;
const SEL_USER = L.SELECTOR.user;
const SEL_SIZE = L.SELECTOR.size;
const ID_SPI = L.ID.spi;
const ID_PROTO = L.ID.proto;
const ID_SIZE = L.ID.size;
const LC = L.LIFETIME_CFG;
const [LC_SB, LC_HB, LC_SP, LC_HP, LC_SA, LC_HA, LC_SU, LC_HU] = [
  LC.soft_byte_limit, LC.hard_byte_limit, LC.soft_packet_limit, LC.hard_packet_limit,
  LC.soft_add_expires_seconds, LC.hard_add_expires_seconds, LC.soft_use_expires_seconds, LC.hard_use_expires_seconds,
] as const;
const LU = L.LIFETIME_CUR;
const [LU_BYTES, LU_PACKETS, LU_ADD, LU_USE] = [LU.bytes, LU.packets, LU.add_time, LU.use_time] as const;
const ST = L.STATS;
const [ST_RW, ST_REPLAY, ST_IF] = [ST.replay_window, ST.replay, ST.integrity_failed] as const;
const INF = XFRM_INF;

export function need(buf: Buffer, off: number, size: number, what: string): void {
  if (buf.length - off < size) {
    throw new NetlinkParseError(`${what}: ${Math.max(0, buf.length - off)} bytes, expected ${size}`, off);
  }
}

// ---- selector ----
export function writeSelector(buf: Buffer, off: number, s: Partial<XfrmSelector>, defaultFamily: number, what: string): void {
  const family = s.family ?? defaultFamily;
  writeXfrmAddress(buf, off + L.SELECTOR.daddr, s.daddr, family, `${what} selector daddr`);
  writeXfrmAddress(buf, off + L.SELECTOR.saddr, s.saddr, family, `${what} selector saddr`);
  buf.writeUInt16BE(s.dport ?? 0, off + L.SELECTOR.dport);
  buf.writeUInt16BE(s.dportMask ?? 0, off + L.SELECTOR.dport_mask);
  buf.writeUInt16BE(s.sport ?? 0, off + L.SELECTOR.sport);
  buf.writeUInt16BE(s.sportMask ?? 0, off + L.SELECTOR.sport_mask);
  buf.writeUInt16LE(family, off + L.SELECTOR.family);
  buf.writeUInt8(s.prefixlenD ?? 0, off + L.SELECTOR.prefixlen_d);
  buf.writeUInt8(s.prefixlenS ?? 0, off + L.SELECTOR.prefixlen_s);
  buf.writeUInt8(s.proto ?? 0, off + L.SELECTOR.proto);
  buf.writeInt32LE(s.ifindex ?? 0, off + L.SELECTOR.ifindex);
  buf.writeUInt32LE(s.user ?? 0, off + L.SELECTOR.user);
}

export function readSelector(buf: Buffer, off: number): XfrmSelector {
  need(buf, off, SEL_SIZE, 'xfrm_selector');
  const family = rd16(buf, off + SEL_FAMILY);
  return {
    family,
    daddr: readXfrmAddress(buf, off + SEL_DADDR, family),
    saddr: readXfrmAddress(buf, off + SEL_SADDR, family),
    prefixlenD: buf[off + SEL_PLEN_D]!,
    prefixlenS: buf[off + SEL_PLEN_S]!,
    proto: buf[off + SEL_PROTO]!,
    dport: rd16be(buf, off + SEL_DPORT),
    dportMask: rd16be(buf, off + SEL_DPORT_MASK),
    sport: rd16be(buf, off + SEL_SPORT),
    sportMask: rd16be(buf, off + SEL_SPORT_MASK),
    ifindex: rds32(buf, off + SEL_IFINDEX),
    user: rd32(buf, off + SEL_USER),
  };
}

// ---- id ----
export function writeId(buf: Buffer, off: number, id: Partial<XfrmId>, family: number, what: string): void {
  writeXfrmAddress(buf, off + L.ID.daddr, id.daddr, family, `${what} daddr`);
  buf.writeUInt32BE((id.spi ?? 0) >>> 0, off + L.ID.spi);
  buf.writeUInt8(id.proto ?? 0, off + L.ID.proto);
}

export function readId(buf: Buffer, off: number, family: number): XfrmId {
  need(buf, off, ID_SIZE, 'xfrm_id');
  return {
    daddr: readXfrmAddress(buf, off, family),
    spi: rd32be(buf, off + ID_SPI),
    proto: buf[off + ID_PROTO]!,
  };
}

// ---- lifetimes ----

/** iproute2's defaults: byte and packet limits infinite, no time limits. */
export function lifetimeDefaults(l: Partial<XfrmLifetimeCfg> = {}): XfrmLifetimeCfg {
  return {
    softByteLimit: l.softByteLimit ?? XFRM_INF,
    hardByteLimit: l.hardByteLimit ?? XFRM_INF,
    softPacketLimit: l.softPacketLimit ?? XFRM_INF,
    hardPacketLimit: l.hardPacketLimit ?? XFRM_INF,
    softAddExpiresSeconds: l.softAddExpiresSeconds ?? 0n,
    hardAddExpiresSeconds: l.hardAddExpiresSeconds ?? 0n,
    softUseExpiresSeconds: l.softUseExpiresSeconds ?? 0n,
    hardUseExpiresSeconds: l.hardUseExpiresSeconds ?? 0n,
  };
}

/** A u64; the common values (0, XFRM_INF) as two u32 writes instead of a BigInt conversion. */
function writeU64(buf: Buffer, off: number, v: bigint): void {
  if (v === 0n || v === INF) {
    const w = v === 0n ? 0 : 0xffffffff;
    buf.writeUInt32LE(w, off);
    buf.writeUInt32LE(w, off + 4);
  } else buf.writeBigUInt64LE(v, off);
}

export function writeLifetimeCfg(buf: Buffer, off: number, l: Partial<XfrmLifetimeCfg> | undefined): void {
  // iproute2's defaults: byte and packet limits infinite, no time limits
  writeU64(buf, off + LC_SB, l?.softByteLimit ?? INF);
  writeU64(buf, off + LC_HB, l?.hardByteLimit ?? INF);
  writeU64(buf, off + LC_SP, l?.softPacketLimit ?? INF);
  writeU64(buf, off + LC_HP, l?.hardPacketLimit ?? INF);
  writeU64(buf, off + LC_SA, l?.softAddExpiresSeconds ?? 0n);
  writeU64(buf, off + LC_HA, l?.hardAddExpiresSeconds ?? 0n);
  writeU64(buf, off + LC_SU, l?.softUseExpiresSeconds ?? 0n);
  writeU64(buf, off + LC_HU, l?.hardUseExpiresSeconds ?? 0n);
}

/** u64 without BigInt arithmetic for the common values (0, small, XFRM_INF). */
export function readU64(buf: Buffer, off: number): bigint {
  const lo = rd32(buf, off);
  const hi = rd32(buf, off + 4);
  if (hi === 0) return lo === 0 ? 0n : BigInt(lo);
  if (hi === 0xffffffff && lo === 0xffffffff) return INF;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function readLifetimeCfg(buf: Buffer, off: number): XfrmLifetimeCfg {
  need(buf, off, LC.size, 'xfrm_lifetime_cfg');
  return {
    softByteLimit: readU64(buf, off + LC_SB),
    hardByteLimit: readU64(buf, off + LC_HB),
    softPacketLimit: readU64(buf, off + LC_SP),
    hardPacketLimit: readU64(buf, off + LC_HP),
    softAddExpiresSeconds: readU64(buf, off + LC_SA),
    hardAddExpiresSeconds: readU64(buf, off + LC_HA),
    softUseExpiresSeconds: readU64(buf, off + LC_SU),
    hardUseExpiresSeconds: readU64(buf, off + LC_HU),
  };
}

export function readLifetimeCur(buf: Buffer, off: number): XfrmLifetimeCur {
  need(buf, off, LU.size, 'xfrm_lifetime_cur');
  return {
    bytes: readU64(buf, off + LU_BYTES),
    packets: readU64(buf, off + LU_PACKETS),
    addTime: readU64(buf, off + LU_ADD),
    useTime: readU64(buf, off + LU_USE),
  };
}

export function writeLifetimeCur(buf: Buffer, off: number, c: Partial<XfrmLifetimeCur> | undefined): void {
  buf.writeBigUInt64LE(c?.bytes ?? 0n, off + L.LIFETIME_CUR.bytes);
  buf.writeBigUInt64LE(c?.packets ?? 0n, off + L.LIFETIME_CUR.packets);
  buf.writeBigUInt64LE(c?.addTime ?? 0n, off + L.LIFETIME_CUR.add_time);
  buf.writeBigUInt64LE(c?.useTime ?? 0n, off + L.LIFETIME_CUR.use_time);
}

export function readStats(buf: Buffer, off: number): XfrmStats {
  need(buf, off, ST.size, 'xfrm_stats');
  return { replayWindow: rd32(buf, off + ST_RW), replay: rd32(buf, off + ST_REPLAY), integrityFailed: rd32(buf, off + ST_IF) };
}

// ---- template ----
export function encodeTemplate(t: XfrmTemplateInput, defaultFamily: number, what: string): Buffer {
  const b = Buffer.alloc(L.USER_TMPL.size);
  writeTemplate(b, 0, t, defaultFamily, what);
  return b;
}

/** xfrm_user_tmpl at b[off] (64 zero bytes). */
export function writeTemplate(b: Buffer, off: number, t: XfrmTemplateInput, defaultFamily: number, what: string): void {
  const family = t.family ?? defaultFamily;
  writeId(b, off + L.USER_TMPL.id, t.id, family, `${what} template`);
  b.writeUInt16LE(family, off + L.USER_TMPL.family);
  writeXfrmAddress(b, off + L.USER_TMPL.saddr, t.saddr, family, `${what} template saddr`);
  b.writeUInt32LE((t.reqid ?? 0) >>> 0, off + L.USER_TMPL.reqid);
  b.writeUInt8(t.mode ?? 0, off + L.USER_TMPL.mode);
  b.writeUInt8(t.share ?? 0, off + L.USER_TMPL.share);
  b.writeUInt8(t.optional ? 1 : 0, off + L.USER_TMPL.optional);
  b.writeUInt32LE((t.aalgos ?? 0xffffffff) >>> 0, off + L.USER_TMPL.aalgos);
  b.writeUInt32LE((t.ealgos ?? 0xffffffff) >>> 0, off + L.USER_TMPL.ealgos);
  b.writeUInt32LE((t.calgos ?? 0xffffffff) >>> 0, off + L.USER_TMPL.calgos);
}

export function readTemplates(data: Buffer, what: string): XfrmTemplate[] {
  if (data.length % L.USER_TMPL.size) {
    throw new NetlinkParseError(`${what}: XFRMA_TMPL is ${data.length} bytes, not a multiple of ${L.USER_TMPL.size}`, 0);
  }
  const out: XfrmTemplate[] = [];
  for (let off = 0; off < data.length; off += L.USER_TMPL.size) {
    const family = data.readUInt16LE(off + L.USER_TMPL.family);
    out.push({
      id: readId(data, off + L.USER_TMPL.id, family),
      family,
      saddr: readXfrmAddress(data, off + L.USER_TMPL.saddr, family),
      reqid: data.readUInt32LE(off + L.USER_TMPL.reqid),
      mode: data[off + L.USER_TMPL.mode]!,
      share: data[off + L.USER_TMPL.share]!,
      optional: data[off + L.USER_TMPL.optional]! !== 0,
      aalgos: data.readUInt32LE(off + L.USER_TMPL.aalgos),
      ealgos: data.readUInt32LE(off + L.USER_TMPL.ealgos),
      calgos: data.readUInt32LE(off + L.USER_TMPL.calgos),
    });
  }
  return out;
}

// ---- small structs ----
export function encodeMark(m: XfrmMark): Buffer {
  const b = Buffer.alloc(L.MARK.size);
  b.writeUInt32LE(m.value >>> 0, L.MARK.v);
  b.writeUInt32LE(m.mask >>> 0, L.MARK.m);
  return b;
}

export function readMark(data: Buffer, what: string): XfrmMark {
  need(data, 0, L.MARK.size, `${what} XFRMA_MARK`);
  return { value: data.readUInt32LE(L.MARK.v), mask: data.readUInt32LE(L.MARK.m) };
}

export function encodeAddress(text: string, family: number, what: string): Buffer {
  const b = Buffer.alloc(16);
  writeXfrmAddress(b, 0, text, family, what);
  return b;
}

export function encodePolicyType(type: number): Buffer {
  const b = Buffer.alloc(L.USERPOLICY_TYPE.size);
  b.writeUInt8(type, L.USERPOLICY_TYPE.type);
  return b;
}

export function readReplayState(data: Buffer, what: string): XfrmReplayState {
  need(data, 0, L.REPLAY_STATE.size, `${what} XFRMA_REPLAY_VAL`);
  return { oseq: data.readUInt32LE(L.REPLAY_STATE.oseq), seq: data.readUInt32LE(L.REPLAY_STATE.seq), bitmap: data.readUInt32LE(L.REPLAY_STATE.bitmap) };
}

export function encodeReplayState(r: XfrmReplayState): Buffer {
  const b = Buffer.alloc(L.REPLAY_STATE.size);
  b.writeUInt32LE(r.oseq >>> 0, L.REPLAY_STATE.oseq);
  b.writeUInt32LE(r.seq >>> 0, L.REPLAY_STATE.seq);
  b.writeUInt32LE(r.bitmap >>> 0, L.REPLAY_STATE.bitmap);
  return b;
}

export function encodeMigrateEntries(entries: XfrmMigrateEntry[]): Buffer {
  const b = Buffer.alloc(entries.length * L.USER_MIGRATE.size);
  entries.forEach((e, i) => {
    const o = i * L.USER_MIGRATE.size;
    writeXfrmAddress(b, o + L.USER_MIGRATE.old_daddr, e.oldDaddr, e.oldFamily, 'migrate old daddr');
    writeXfrmAddress(b, o + L.USER_MIGRATE.old_saddr, e.oldSaddr, e.oldFamily, 'migrate old saddr');
    writeXfrmAddress(b, o + L.USER_MIGRATE.new_daddr, e.newDaddr, e.newFamily, 'migrate new daddr');
    writeXfrmAddress(b, o + L.USER_MIGRATE.new_saddr, e.newSaddr, e.newFamily, 'migrate new saddr');
    b.writeUInt8(e.proto, o + L.USER_MIGRATE.proto);
    b.writeUInt8(e.mode, o + L.USER_MIGRATE.mode);
    b.writeUInt32LE(e.reqid >>> 0, o + L.USER_MIGRATE.reqid);
    b.writeUInt16LE(e.oldFamily, o + L.USER_MIGRATE.old_family);
    b.writeUInt16LE(e.newFamily, o + L.USER_MIGRATE.new_family);
  });
  return b;
}

export function readMigrateEntries(data: Buffer, what: string): XfrmMigrateEntry[] {
  if (data.length % L.USER_MIGRATE.size) {
    throw new NetlinkParseError(`${what}: XFRMA_MIGRATE is ${data.length} bytes, not a multiple of ${L.USER_MIGRATE.size}`, 0);
  }
  const out: XfrmMigrateEntry[] = [];
  for (let o = 0; o < data.length; o += L.USER_MIGRATE.size) {
    const oldFamily = data.readUInt16LE(o + L.USER_MIGRATE.old_family);
    const newFamily = data.readUInt16LE(o + L.USER_MIGRATE.new_family);
    out.push({
      oldDaddr: readXfrmAddress(data, o + L.USER_MIGRATE.old_daddr, oldFamily),
      oldSaddr: readXfrmAddress(data, o + L.USER_MIGRATE.old_saddr, oldFamily),
      newDaddr: readXfrmAddress(data, o + L.USER_MIGRATE.new_daddr, newFamily),
      newSaddr: readXfrmAddress(data, o + L.USER_MIGRATE.new_saddr, newFamily),
      proto: data[o + L.USER_MIGRATE.proto]!,
      mode: data[o + L.USER_MIGRATE.mode]!,
      reqid: data.readUInt32LE(o + L.USER_MIGRATE.reqid),
      oldFamily,
      newFamily,
    });
  }
  return out;
}

export function encodeKmAddress(k: XfrmKmAddress): Buffer {
  const b = Buffer.alloc(L.USER_KMADDRESS.size);
  writeXfrmAddress(b, L.USER_KMADDRESS.local, k.local, k.family, 'kmaddress local');
  writeXfrmAddress(b, L.USER_KMADDRESS.remote, k.remote, k.family, 'kmaddress remote');
  b.writeUInt16LE(k.family, L.USER_KMADDRESS.family);
  return b;
}

export function readKmAddress(data: Buffer, what: string): XfrmKmAddress {
  need(data, 0, L.USER_KMADDRESS.size, `${what} XFRMA_KMADDRESS`);
  const family = data.readUInt16LE(L.USER_KMADDRESS.family);
  return { local: readXfrmAddress(data, L.USER_KMADDRESS.local, family), remote: readXfrmAddress(data, L.USER_KMADDRESS.remote, family), family };
}

// ---- algorithms (the only structures that hold key material) ----
function writeAlgName(b: Buffer, name: string, what: string): void {
  const n = Buffer.from(name, 'utf8');
  if (n.length >= 64) throw new Error(`${what}: algorithm name "${name}" is longer than 63 bytes`);
  n.copy(b, 0);
}

function keyOf(a: XfrmAlgo, what: string): Buffer {
  const key = a.key?.expose() ?? Buffer.alloc(0);
  if (a.keyBits !== undefined && a.keyBits !== key.length * 8) {
    throw new Error(`${what} ${a.name}: keyBits ${a.keyBits} does not match a ${key.length * 8}-bit key`);
  }
  return key;
}

export function encodeAlgo(a: XfrmAlgo, what: string): Buffer {
  const key = keyOf(a, what);
  const b = Buffer.alloc(L.ALGO.size + key.length);
  writeAlgName(b, a.name, what);
  b.writeUInt32LE(key.length * 8, L.ALGO.alg_key_len);
  key.copy(b, L.ALGO.alg_key);
  return b;
}

export function encodeAlgoAuth(a: XfrmAuthAlgo & { truncBits: number }, what: string): Buffer {
  const key = keyOf(a, what);
  const b = Buffer.alloc(L.ALGO_AUTH.size + key.length);
  writeAlgName(b, a.name, what);
  b.writeUInt32LE(key.length * 8, L.ALGO_AUTH.alg_key_len);
  b.writeUInt32LE(a.truncBits, L.ALGO_AUTH.alg_trunc_len);
  key.copy(b, L.ALGO_AUTH.alg_key);
  return b;
}

export function encodeAlgoAead(a: XfrmAeadAlgo, what: string): Buffer {
  const key = keyOf(a, what);
  const b = Buffer.alloc(L.ALGO_AEAD.size + key.length);
  writeAlgName(b, a.name, what);
  b.writeUInt32LE(key.length * 8, L.ALGO_AEAD.alg_key_len);
  b.writeUInt32LE(a.icvBits, L.ALGO_AEAD.alg_icv_len);
  key.copy(b, L.ALGO_AEAD.alg_key);
  return b;
}

// Algorithm names repeat in every SA of a dump: keep the text of the first few seen and
// compare bytes instead of decoding them again.
const nameCache: { bytes: Uint8Array; text: string }[] = [];
const NAME_CACHE_MAX = 32;

function readAlgNameAt(buf: Buffer, start: number): string {
  let n = 0;
  while (n < 64 && buf[start + n] !== 0) n++;
  next: for (let c = 0; c < nameCache.length; c++) {
    const e = nameCache[c]!;
    if (e.bytes.length !== n) continue;
    for (let i = 0; i < n; i++) if (e.bytes[i] !== buf[start + i]) continue next;
    return e.text;
  }
  const text = buf.toString('utf8', start, start + n);
  if (nameCache.length < NAME_CACHE_MAX) nameCache.push({ bytes: Uint8Array.from(buf.subarray(start, start + n)), text });
  return text;
}

/**
 * An algorithm attribute read in place (buf[start, end)); null when it is too short or its key
 * length does not fit (readAlgo* then report the error). Keys are copied only when withKeys.
 */
export function readAlgoAt(buf: Buffer, start: number, end: number, headerSize: number, keyLenOff: number, withKeys: boolean): XfrmAlgo | null {
  if (end - start < headerSize) return null;
  const keyBits = rd32(buf, start + keyLenOff);
  const keyBytes = Math.ceil(keyBits / 8);
  if (end - start < headerSize + keyBytes) return null;
  const a: XfrmAlgo = { name: readAlgNameAt(buf, start), keyBits, keyPresent: keyBytes > 0 };
  if (withKeys && keyBytes > 0) a.key = SecretKey.from(buf.subarray(start + headerSize, start + headerSize + keyBytes));
  return a;
}

function readAlgName(data: Buffer): string {
  const end = data.indexOf(0);
  return data.toString('utf8', 0, end < 0 || end > 64 ? 64 : end);
}

/** Decode an algorithm; the key bytes are copied out only when withKeys. */
function readAlgoCommon(data: Buffer, headerSize: number, keyLenOff: number, what: string, withKeys: boolean): XfrmAlgo {
  need(data, 0, headerSize, what);
  const keyBits = data.readUInt32LE(keyLenOff);
  const keyBytes = Math.ceil(keyBits / 8);
  if (data.length < headerSize + keyBytes) {
    throw new NetlinkParseError(`${what}: key length ${keyBits} bits exceeds the ${data.length - headerSize} key bytes present`, 0);
  }
  const a: XfrmAlgo = { name: readAlgName(data), keyBits, keyPresent: keyBytes > 0 };
  if (withKeys && keyBytes > 0) a.key = SecretKey.from(data.subarray(headerSize, headerSize + keyBytes));
  return a;
}

export function readAlgo(data: Buffer, what: string, withKeys: boolean): XfrmAlgo {
  return readAlgoCommon(data, L.ALGO.size, L.ALGO.alg_key_len, what, withKeys);
}

export function readAlgoAuth(data: Buffer, what: string, withKeys: boolean): XfrmAuthAlgo {
  const a = readAlgoCommon(data, L.ALGO_AUTH.size, L.ALGO_AUTH.alg_key_len, what, withKeys) as XfrmAuthAlgo;
  a.truncBits = data.readUInt32LE(L.ALGO_AUTH.alg_trunc_len);
  return a;
}

export function readAlgoAead(data: Buffer, what: string, withKeys: boolean): XfrmAeadAlgo {
  const a = readAlgoCommon(data, L.ALGO_AEAD.size, L.ALGO_AEAD.alg_key_len, what, withKeys) as XfrmAeadAlgo;
  a.icvBits = data.readUInt32LE(L.ALGO_AEAD.alg_icv_len);
  return a;
}

export const DEFAULT_FAMILY = AF_INET6;

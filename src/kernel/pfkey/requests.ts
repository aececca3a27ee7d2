// Pure builders for the requests iro-ctl sends, shaped the way af_key.c parses them
// (which extensions each type needs, their families, the ESP key rule, the reqid range).
import {
  IPSEC_DIR_FWD,
  IPSEC_DIR_INBOUND,
  IPSEC_DIR_OUTBOUND,
  IPSEC_LEVEL_DEFAULT,
  IPSEC_LEVEL_REQUIRE,
  IPSEC_LEVEL_UNIQUE,
  IPSEC_LEVEL_USE,
  IPSEC_MANUAL_REQID_MAX,
  IPSEC_MODE_BEET,
  IPSEC_MODE_TRANSPORT,
  IPSEC_MODE_TUNNEL,
  IPSEC_POLICY_DISCARD,
  IPSEC_POLICY_IPSEC,
  IPSEC_POLICY_NONE,
  IPSEC_ULPROTO_ANY,
  SADB_ADD,
  SADB_DELETE,
  SADB_DUMP,
  SADB_EALG_NULL,
  SADB_FLUSH,
  SADB_GET,
  SADB_GETSPI,
  SADB_REGISTER,
  SADB_SASTATE_MATURE,
  SADB_SATYPE_AH,
  SADB_SATYPE_ESP,
  SADB_SATYPE_UNSPEC,
  SADB_UPDATE,
  SADB_X_MIGRATE,
  SADB_X_PCHANGE,
  SADB_X_PROMISC,
  SADB_X_SPDADD,
  SADB_X_SPDDELETE,
  SADB_X_SPDDELETE2,
  SADB_X_SPDDUMP,
  SADB_X_SPDFLUSH,
  SADB_X_SPDGET,
  SADB_X_SPDUPDATE,
  satypeToProto,
} from './constants.ts';
import type { MessageInput } from './encode.ts';
import { PfkeyError } from './errors.ts';
import { KeyMaterial } from './key-material.ts';
import { hostPrefix, toSockaddr } from './sockaddr.ts';
import type { PfkeyExtensions, PfkeySockaddr, SadbAddress, SadbIpsecRequest, SadbLifetime } from './types.ts';

export type Address = string | PfkeySockaddr;
export type ModeName = 'transport' | 'tunnel' | 'beet';
export type DirName = 'in' | 'out' | 'fwd';

export interface Envelope {
  seq: number;
  pid: number;
}

/** What identifies an SA to the kernel: (daddr, spi, proto), plus the src af_key also requires. */
export interface SaRef {
  satype: number;
  spi: number;
  src: Address;
  dst: Address;
}

export interface LifetimeSpec {
  allocations?: number;
  bytes?: bigint;
  addtime?: bigint | number;
  usetime?: bigint | number;
}

export interface SaSpec extends SaRef {
  mode?: ModeName;
  reqid?: number;
  replay?: number;
  flags?: number;
  /** SADB_AALG_* and key; omit for no authentication (ESP with AEAD or NULL auth) */
  auth?: { alg: number; key?: KeyMaterial };
  /** SADB_EALG_* and key (ESP); NULL encryption needs no key */
  enc?: { alg: number; key?: KeyMaterial };
  /** Linux needs hard and soft together: a missing one is sent as "no limit" */
  hard?: LifetimeSpec;
  soft?: LifetimeSpec;
  natt?: { type: number; sport: number; dport: number };
}

export interface GetspiSpec {
  satype: number;
  src: Address;
  dst: Address;
  /** inclusive SPI range; the kernel's default is 0x100..0x0fffffff */
  range?: { min: number; max: number };
  mode?: ModeName;
  reqid?: number;
}

export interface SelectorEnd {
  address: Address;
  prefixlen?: number;
  port?: number;
}

export interface PolicyTemplate {
  /** IP protocol of the SA: 50 ESP, 51 AH, 108 IPCOMP */
  proto: number;
  mode: ModeName;
  /** default: 'unique' when reqid is given, else 'require' */
  level?: 'default' | 'use' | 'require' | 'unique';
  reqid?: number;
  /** tunnel mode endpoints */
  tunnel?: { src: Address; dst: Address };
}

export interface PolicySpec {
  dir: DirName;
  src: SelectorEnd;
  dst: SelectorEnd;
  /** upper-layer protocol of the selector; default any (255) */
  proto?: number;
  action?: 'ipsec' | 'none' | 'discard';
  priority?: number;
  templates?: PolicyTemplate[];
  hard?: LifetimeSpec;
  soft?: LifetimeSpec;
}

export interface PolicySelectorSpec {
  dir: DirName;
  src: SelectorEnd;
  dst: SelectorEnd;
  proto?: number;
}

export interface MigrateBundle {
  proto: number;
  mode: ModeName;
  reqid?: number;
  old: { src: Address; dst: Address };
  new: { src: Address; dst: Address };
}

export interface MigrateSpec {
  selector: PolicySelectorSpec;
  bundles: MigrateBundle[];
  kmaddress?: { local: Address; remote: Address };
}

const MODES: Record<ModeName, number> = { transport: IPSEC_MODE_TRANSPORT, tunnel: IPSEC_MODE_TUNNEL, beet: IPSEC_MODE_BEET };
const DIRS: Record<DirName, number> = { in: IPSEC_DIR_INBOUND, out: IPSEC_DIR_OUTBOUND, fwd: IPSEC_DIR_FWD };
const LEVELS = { default: IPSEC_LEVEL_DEFAULT, use: IPSEC_LEVEL_USE, require: IPSEC_LEVEL_REQUIRE, unique: IPSEC_LEVEL_UNIQUE };

function fail(msg: string): never {
  throw new PfkeyError('PFKEY_ENCODE', msg);
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) fail(`${what} ${v} is not a u32`);
  return v;
}

function saSatype(satype: number): number {
  if (!satypeToProto(satype)) fail(`satype ${satype} is not an SA type (AH 2, ESP 3, IPCOMP 9)`);
  return satype;
}

function hostAddress(a: Address): SadbAddress {
  const addr = toSockaddr(a);
  return { proto: 0, prefixlen: hostPrefix(addr.family), reserved: 0, addr };
}

function samePair(src: Address, dst: Address, what: string): { src: SadbAddress; dst: SadbAddress } {
  const s = hostAddress(src);
  const d = hostAddress(dst);
  if (s.addr.family !== d.addr.family) fail(`${what}: src ${s.addr.address} and dst ${d.addr.address} are of different families`);
  return { src: s, dst: d };
}

function selectorAddress(end: SelectorEnd, proto: number): SadbAddress {
  const addr = toSockaddr(end.address, end.port ?? 0);
  const max = hostPrefix(addr.family);
  const prefixlen = end.prefixlen ?? max;
  if (!Number.isInteger(prefixlen) || prefixlen < 0 || prefixlen > max) fail(`prefix length ${prefixlen} is not in 0..${max}`);
  return { proto, prefixlen, reserved: 0, addr };
}

function lifetime(l: LifetimeSpec | undefined): SadbLifetime {
  return {
    allocations: l?.allocations ?? 0,
    bytes: l?.bytes ?? 0n,
    addtime: BigInt(l?.addtime ?? 0),
    usetime: BigInt(l?.usetime ?? 0),
  };
}

function mode(m: ModeName | undefined): number {
  if (m === undefined) return IPSEC_MODE_TRANSPORT;
  const v = MODES[m];
  if (v === undefined) fail(`unknown IPsec mode "${m}"`);
  return v;
}

function dir(d: DirName): number {
  const v = DIRS[d];
  if (v === undefined) fail(`unknown policy direction "${d}" (in|out|fwd)`);
  return v;
}

export function getspiRequest(env: Envelope, s: GetspiSpec): MessageInput {
  const pair = samePair(s.src, s.dst, 'GETSPI');
  const ext: PfkeyExtensions = { src: pair.src, dst: pair.dst };
  if (s.mode !== undefined || s.reqid !== undefined)
    ext.sa2 = { mode: mode(s.mode), reserved1: 0, reserved2: 0, sequence: 0, reqid: u32(s.reqid ?? 0, 'reqid') };
  if (s.range) {
    const min = u32(s.range.min, 'SPI range min');
    const max = u32(s.range.max, 'SPI range max');
    if (min > max) fail(`SPI range min 0x${min.toString(16)} > max 0x${max.toString(16)}`);
    ext.spirange = { min, max, reserved: 0 };
  }
  return { type: SADB_GETSPI, satype: saSatype(s.satype), ...env, ext };
}

/** SADB_ADD (or SADB_UPDATE, to complete a larval SA from GETSPI). */
export function addRequest(env: Envelope, s: SaSpec, update = false): MessageInput {
  const satype = saSatype(s.satype);
  const pair = samePair(s.src, s.dst, update ? 'UPDATE' : 'ADD');
  const ext: PfkeyExtensions = {
    sa: {
      spi: u32(s.spi, 'spi'),
      replay: s.replay ?? 32,
      state: SADB_SASTATE_MATURE,
      auth: s.auth?.alg ?? 0,
      encrypt: s.enc?.alg ?? 0,
      flags: (s.flags ?? 0) >>> 0,
    },
    src: pair.src,
    dst: pair.dst,
    sa2: { mode: mode(s.mode), reserved1: 0, reserved2: 0, sequence: 0, reqid: u32(s.reqid ?? 0, 'reqid') },
  };
  if (s.auth?.key) ext.keyAuth = { bits: s.auth.key.bits, reserved: 0, key: s.auth.key };
  if (satype === SADB_SATYPE_AH && !ext.keyAuth) fail('an AH SA needs an authentication key');
  if (s.enc?.key) ext.keyEncrypt = { bits: s.enc.key.bits, reserved: 0, key: s.enc.key };
  if (satype === SADB_SATYPE_ESP && !ext.keyEncrypt) {
    // af_key rejects ESP without KEY_ENCRYPT; with NULL encryption a 0-bit key is what it expects.
    if ((s.enc?.alg ?? SADB_EALG_NULL) !== SADB_EALG_NULL) fail('an ESP SA with encryption needs an encryption key');
    ext.sa!.encrypt = SADB_EALG_NULL;
    ext.keyEncrypt = { bits: 0, reserved: 0, key: new KeyMaterial(Buffer.alloc(0), 0) };
  }
  if (s.hard || s.soft) {
    ext.lifetimeHard = lifetime(s.hard);
    ext.lifetimeSoft = lifetime(s.soft);
  }
  if (s.natt) {
    ext.natTType = { type: s.natt.type, reserved: 0 };
    ext.natTSport = { port: s.natt.sport, reserved: 0 };
    ext.natTDport = { port: s.natt.dport, reserved: 0 };
  }
  return { type: update ? SADB_UPDATE : SADB_ADD, satype, ...env, ext };
}

function saRefExt(s: SaRef, what: string): PfkeyExtensions {
  const pair = samePair(s.src, s.dst, what);
  return {
    sa: { spi: u32(s.spi, 'spi'), replay: 0, state: 0, auth: 0, encrypt: 0, flags: 0 },
    src: pair.src,
    dst: pair.dst,
  };
}

export function deleteRequest(env: Envelope, s: SaRef): MessageInput {
  return { type: SADB_DELETE, satype: saSatype(s.satype), ...env, ext: saRefExt(s, 'DELETE') };
}

export function getRequest(env: Envelope, s: SaRef): MessageInput {
  return { type: SADB_GET, satype: saSatype(s.satype), ...env, ext: saRefExt(s, 'GET') };
}

/** satype UNSPEC flushes/dumps every SA type. */
export function flushRequest(env: Envelope, satype = SADB_SATYPE_UNSPEC): MessageInput {
  return { type: SADB_FLUSH, satype, ...env };
}

export function dumpRequest(env: Envelope, satype = SADB_SATYPE_UNSPEC): MessageInput {
  return { type: SADB_DUMP, satype, ...env };
}

export function registerRequest(env: Envelope, satype: number): MessageInput {
  return { type: SADB_REGISTER, satype, ...env };
}

/** af_key reads the on/off switch from sadb_msg_satype of a header-only X_PROMISC. */
export function promiscRequest(env: Envelope, on: boolean): MessageInput {
  return { type: SADB_X_PROMISC, satype: on ? 1 : 0, ...env };
}

/** A request af_key always answers with EOPNOTSUPP to the sender only: used as a reply barrier. */
export function barrierRequest(env: Envelope): MessageInput {
  return { type: SADB_X_PCHANGE, satype: 0, ...env };
}

function templates(spec: PolicySpec): SadbIpsecRequest[] {
  return (spec.templates ?? []).map((t, i) => {
    const what = `policy template ${i}`;
    const m = mode(t.mode);
    const level = LEVELS[t.level ?? (t.reqid !== undefined ? 'unique' : 'require')];
    if (level === undefined) fail(`${what}: unknown level "${t.level}"`);
    const reqid = t.reqid ?? 0;
    if (t.reqid !== undefined && level !== IPSEC_LEVEL_UNIQUE)
      fail(`${what}: af_key keeps a reqid only with level "unique"`);
    if (reqid > IPSEC_MANUAL_REQID_MAX)
      fail(`${what}: reqid ${reqid} exceeds IPSEC_MANUAL_REQID_MAX 0x3fff (af_key would replace it)`);
    const rq: SadbIpsecRequest = { proto: t.proto, mode: m, level, reqid, reserved1: 0, reserved2: 0, length: 0 };
    if (m === IPSEC_MODE_TUNNEL) {
      if (!t.tunnel) fail(`${what}: tunnel mode needs tunnel endpoints`);
      const src = toSockaddr(t.tunnel.src);
      const dst = toSockaddr(t.tunnel.dst);
      if (src.family !== dst.family) fail(`${what}: tunnel endpoints of different families`);
      rq.endpoints = { src, dst };
    } else if (t.tunnel) {
      fail(`${what}: endpoints are only carried in tunnel mode`);
    }
    return rq;
  });
}

function selectorExt(s: PolicySelectorSpec): { src: SadbAddress; dst: SadbAddress } {
  const proto = s.proto ?? IPSEC_ULPROTO_ANY;
  const src = selectorAddress(s.src, proto);
  const dst = selectorAddress(s.dst, proto);
  if (src.addr.family !== dst.addr.family) fail('policy selector src and dst are of different families');
  return { src, dst };
}

export function spdAddRequest(env: Envelope, spec: PolicySpec, update = false): MessageInput {
  const sel = selectorExt(spec);
  const action = spec.action ?? (spec.templates?.length ? 'ipsec' : 'none');
  const type = action === 'ipsec' ? IPSEC_POLICY_IPSEC : action === 'discard' ? IPSEC_POLICY_DISCARD : IPSEC_POLICY_NONE;
  if (type === IPSEC_POLICY_IPSEC && !spec.templates?.length) fail('an "ipsec" policy needs at least one template');
  const ext: PfkeyExtensions = {
    src: sel.src,
    dst: sel.dst,
    policy: {
      type,
      dir: dir(spec.dir),
      reserved: 0,
      id: 0,
      priority: u32(spec.priority ?? 0, 'priority'),
      requests: type === IPSEC_POLICY_IPSEC ? templates(spec) : [],
    },
  };
  if (spec.hard) ext.lifetimeHard = lifetime(spec.hard);
  if (spec.soft) ext.lifetimeSoft = lifetime(spec.soft);
  return { type: update ? SADB_X_SPDUPDATE : SADB_X_SPDADD, satype: 0, ...env, ext };
}

export function spdDeleteRequest(env: Envelope, s: PolicySelectorSpec): MessageInput {
  const sel = selectorExt(s);
  return {
    type: SADB_X_SPDDELETE,
    satype: 0,
    ...env,
    ext: { src: sel.src, dst: sel.dst, policy: { type: IPSEC_POLICY_IPSEC, dir: dir(s.dir), reserved: 0, id: 0, priority: 0, requests: [] } },
  };
}

/** By policy index (the kernel derives the direction from the index). */
export function spdDelete2Request(env: Envelope, id: number, get = false): MessageInput {
  return {
    type: get ? SADB_X_SPDGET : SADB_X_SPDDELETE2,
    satype: 0,
    ...env,
    ext: { policy: { type: IPSEC_POLICY_IPSEC, dir: 0, reserved: 0, id: u32(id, 'policy id'), priority: 0, requests: [] } },
  };
}

export function spdDumpRequest(env: Envelope): MessageInput {
  return { type: SADB_X_SPDDUMP, satype: 0, ...env };
}

export function spdFlushRequest(env: Envelope): MessageInput {
  return { type: SADB_X_SPDFLUSH, satype: 0, ...env };
}

export function migrateRequest(env: Envelope, spec: MigrateSpec): MessageInput {
  if (!spec.bundles.length) fail('MIGRATE needs at least one bundle');
  const sel = selectorExt(spec.selector);
  const requests: SadbIpsecRequest[] = [];
  spec.bundles.forEach((bd, i) => {
    const m = mode(bd.mode);
    const reqid = u32(bd.reqid ?? 0, `bundle ${i} reqid`);
    const level = reqid ? IPSEC_LEVEL_UNIQUE : IPSEC_LEVEL_REQUIRE;
    for (const [which, ends] of [['old', bd.old], ['new', bd.new]] as const) {
      const src = toSockaddr(ends.src);
      const dst = toSockaddr(ends.dst);
      if (src.family !== dst.family) fail(`bundle ${i} ${which} endpoints of different families`);
      requests.push({ proto: bd.proto, mode: m, level, reqid, reserved1: 0, reserved2: 0, length: 0, endpoints: { src, dst } });
    }
  });
  const ext: PfkeyExtensions = {
    src: sel.src,
    dst: sel.dst,
    policy: { type: IPSEC_POLICY_IPSEC, dir: dir(spec.selector.dir), reserved: 0, id: 0, priority: 0, requests },
  };
  if (spec.kmaddress) {
    const local = toSockaddr(spec.kmaddress.local);
    const remote = toSockaddr(spec.kmaddress.remote);
    if (local.family !== remote.family) fail('MIGRATE kmaddress local and remote of different families');
    ext.kmaddress = { reserved: 0, local, remote };
  }
  const satype = spec.bundles[0]!.proto === 51 ? SADB_SATYPE_AH : SADB_SATYPE_ESP;
  return { type: SADB_X_MIGRATE, satype, ...env, ext };
}

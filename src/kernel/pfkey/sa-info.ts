// Key-free summaries of the SA and policy a PF_KEY message describes: what the SA event
// stream carries. PF_KEY on Linux has no direction and no selector protocol for SAs
// (DIGEST §2.1.5 item 4): `selector` is present only when the kernel sent ADDRESS_PROXY.
import * as K from './constants.ts';
import type { AddressFamily, PfkeyMessage, SadbAddress, SadbLifetime } from './types.ts';

// Local copies: under tsx every read of an imported binding is a getter call, and this runs per message.
const IPSEC_DIR_NAMES = K.IPSEC_DIR_NAMES;
const IPSEC_MODE_NAMES = K.IPSEC_MODE_NAMES;
const IPSEC_POLICY_NAMES = K.IPSEC_POLICY_NAMES;
const SA_STATE_NAMES = K.SA_STATE_NAMES;
const satypeToProto = K.satypeToProto;

export interface PfkeySaInfo {
  satype: number;
  /** IP protocol: 50 ESP, 51 AH, 108 IPCOMP */
  proto: number;
  spi: number;
  family: AddressFamily;
  src: string;
  dst: string;
  state: string;
  authAlg: number;
  encAlg: number;
  replay: number;
  flags: number;
  mode?: string;
  reqid?: number;
  /** ADDRESS_PROXY: the selector source when it differs from the SA source */
  selector?: { src: string; prefixlen: number; proto: number; port: number };
  natt?: { type: number; sport?: number; dport?: number };
  lifetimes: { current?: SadbLifetime; hard?: SadbLifetime; soft?: SadbLifetime };
}

export interface PfkeyPolicyEnd {
  address: string;
  prefixlen: number;
  port: number;
}

export interface PfkeyPolicyInfo {
  id: number;
  dir: string;
  action: string;
  priority: number;
  family: AddressFamily;
  /** upper-layer protocol of the selector (0 = any) */
  proto: number;
  src: PfkeyPolicyEnd;
  dst: PfkeyPolicyEnd;
  templates: { proto: number; mode: string; level: number; reqid: number; src?: string; dst?: string }[];
}

/** The SA a message carries, or null when it has no SA/ADDRESS_SRC/ADDRESS_DST. */
export function saInfo(msg: PfkeyMessage): PfkeySaInfo | null {
  const { sa, src, dst, sa2, proxy } = msg.ext;
  if (!sa || !src || !dst) return null;
  const info: PfkeySaInfo = {
    satype: msg.satype,
    proto: satypeToProto(msg.satype),
    spi: sa.spi,
    family: dst.addr.family,
    src: src.addr.address,
    dst: dst.addr.address,
    state: SA_STATE_NAMES[sa.state] ?? String(sa.state),
    authAlg: sa.auth,
    encAlg: sa.encrypt,
    replay: sa.replay,
    flags: sa.flags,
    lifetimes: {},
  };
  if (sa2) {
    info.mode = IPSEC_MODE_NAMES[sa2.mode] ?? String(sa2.mode);
    info.reqid = sa2.reqid;
  }
  if (proxy)
    info.selector = {
      src: proxy.addr.address,
      prefixlen: proxy.prefixlen,
      proto: proxy.proto === 255 ? 0 : proxy.proto,
      port: proxy.addr.port,
    };
  if (msg.ext.natTType)
    info.natt = { type: msg.ext.natTType.type, sport: msg.ext.natTSport?.port, dport: msg.ext.natTDport?.port };
  if (msg.ext.lifetimeCurrent) info.lifetimes.current = msg.ext.lifetimeCurrent;
  if (msg.ext.lifetimeHard) info.lifetimes.hard = msg.ext.lifetimeHard;
  if (msg.ext.lifetimeSoft) info.lifetimes.soft = msg.ext.lifetimeSoft;
  return info;
}

function end(a: SadbAddress): PfkeyPolicyEnd {
  return { address: a.addr.address, prefixlen: a.prefixlen, port: a.addr.port };
}

/** The policy an SPD message carries, or null without X_POLICY/ADDRESS_SRC/ADDRESS_DST. */
export function policyInfo(msg: PfkeyMessage): PfkeyPolicyInfo | null {
  const { policy, src, dst } = msg.ext;
  if (!policy || !src || !dst) return null;
  return {
    id: policy.id,
    dir: IPSEC_DIR_NAMES[policy.dir] ?? String(policy.dir),
    action: IPSEC_POLICY_NAMES[policy.type] ?? String(policy.type),
    priority: policy.priority,
    family: src.addr.family,
    proto: src.proto === 255 ? 0 : src.proto,
    src: end(src),
    dst: end(dst),
    templates: policy.requests.map((rq) => ({
      proto: rq.proto,
      mode: IPSEC_MODE_NAMES[rq.mode] ?? String(rq.mode),
      level: rq.level,
      reqid: rq.reqid,
      ...(rq.endpoints ? { src: rq.endpoints.src.address, dst: rq.endpoints.dst.address } : {}),
    })),
  };
}

// PF_KEY v2 encoder: PfkeyMessage -> bytes, every extension padded to 8 octets, lengths
// in 8-octet units. With `order` (as the decoder records it) kernel messages re-encode byte
// for byte; without it extensions go out in ascending type order.
import {
  PF_KEY_V2,
  SADB_EXT_ADDRESS_DST,
  SADB_EXT_ADDRESS_PROXY,
  SADB_EXT_ADDRESS_SRC,
  SADB_EXT_IDENTITY_DST,
  SADB_EXT_IDENTITY_SRC,
  SADB_EXT_KEY_AUTH,
  SADB_EXT_KEY_ENCRYPT,
  SADB_EXT_LIFETIME_CURRENT,
  SADB_EXT_LIFETIME_HARD,
  SADB_EXT_LIFETIME_SOFT,
  SADB_EXT_MAX,
  SADB_EXT_PROPOSAL,
  SADB_EXT_SA,
  SADB_EXT_SENSITIVITY,
  SADB_EXT_SPIRANGE,
  SADB_EXT_SUPPORTED_AUTH,
  SADB_EXT_SUPPORTED_ENCRYPT,
  SADB_X_EXT_FILTER,
  SADB_X_EXT_KMADDRESS,
  SADB_X_EXT_KMPRIVATE,
  SADB_X_EXT_NAT_T_DPORT,
  SADB_X_EXT_NAT_T_OA,
  SADB_X_EXT_NAT_T_SPORT,
  SADB_X_EXT_NAT_T_TYPE,
  SADB_X_EXT_POLICY,
  SADB_X_EXT_SA2,
  SADB_X_EXT_SEC_CTX,
  SIZEOF,
  extTypeName,
} from './constants.ts';
import { PfkeyError } from './errors.ts';
import { EXT_FIELD } from './extensions.ts';
import { encodeSockaddr, sockaddrLength } from './sockaddr.ts';
import type {
  PfkeyExtensions,
  PfkeySockaddr,
  SadbAddress,
  SadbIpsecRequest,
  SadbKey,
  SadbLifetime,
  SadbSupported,
} from './types.ts';

export interface MessageInput {
  type: number;
  satype?: number;
  seq?: number;
  pid?: number;
  version?: number;
  errno?: number;
  reserved?: number;
  ext?: PfkeyExtensions;
  order?: number[];
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;
const U16_MAX_OCTETS = 0xffff * 8;

/** Encode one message; throws PfkeyError('PFKEY_ENCODE') naming the offending field. */
export function encodePfkeyMessage(m: MessageInput): Buffer {
  const ext = m.ext ?? {};
  const types = extensionOrder(ext, m.order);
  const sizes = types.map((t) => extensionSize(t, ext));
  const total = SIZEOF.sadb_msg + sizes.reduce((a, b) => a + b, 0);
  if (total > U16_MAX_OCTETS) throw new PfkeyError('PFKEY_ENCODE', `PF_KEY message of ${total} octets exceeds sadb_msg_len`);
  const b = Buffer.alloc(total);
  b[0] = m.version ?? PF_KEY_V2;
  b[1] = u8(m.type, 'sadb_msg_type');
  b[2] = u8(m.errno ?? 0, 'sadb_msg_errno');
  b[3] = u8(m.satype ?? 0, 'sadb_msg_satype');
  b.writeUInt16LE(total / 8, 4);
  b.writeUInt16LE(m.reserved ?? 0, 6);
  b.writeUInt32LE((m.seq ?? 0) >>> 0, 8);
  b.writeUInt32LE((m.pid ?? 0) >>> 0, 12);
  let off = SIZEOF.sadb_msg;
  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    const size = sizes[i]!;
    b.writeUInt16LE(size / 8, off);
    b.writeUInt16LE(t, off + 2);
    writeExtension(t, ext, b, off, size);
    off += size;
  }
  return b;
}

function u8(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new PfkeyError('PFKEY_ENCODE', `${what} ${v} is not a u8`);
  return v;
}

function extensionOrder(ext: PfkeyExtensions, order?: number[]): number[] {
  const present: number[] = [];
  for (let t = 1; t <= SADB_EXT_MAX; t++) if (ext[EXT_FIELD[t]!] !== undefined) present.push(t);
  if (!order) return present;
  const out: number[] = [];
  for (const t of order) if (present.includes(t) && !out.includes(t)) out.push(t);
  for (const t of present) if (!out.includes(t)) out.push(t);
  return out;
}

function req<T>(v: T | undefined, t: number): T {
  if (v === undefined) throw new PfkeyError('PFKEY_ENCODE', `extension ${extTypeName(t)} missing`);
  return v;
}

function addressSize(a: SadbAddress): number {
  return align8(SIZEOF.sadb_address + sockaddrLength(a.addr.family));
}

function pairSize(fam: PfkeySockaddr['family']): number {
  return align8(2 * sockaddrLength(fam));
}

function requestSize(rq: SadbIpsecRequest): number {
  const min = SIZEOF.sadb_x_ipsecrequest + (rq.endpoints ? pairSize(rq.endpoints.src.family) : 0);
  return rq.length && rq.length >= min ? rq.length : min;
}

function extensionSize(t: number, ext: PfkeyExtensions): number {
  switch (t) {
    case SADB_EXT_SA:
      return SIZEOF.sadb_sa;
    case SADB_EXT_LIFETIME_CURRENT:
    case SADB_EXT_LIFETIME_HARD:
    case SADB_EXT_LIFETIME_SOFT:
      return SIZEOF.sadb_lifetime;
    case SADB_EXT_ADDRESS_SRC:
    case SADB_EXT_ADDRESS_DST:
    case SADB_EXT_ADDRESS_PROXY:
    case SADB_X_EXT_NAT_T_OA:
      return addressSize(req(ext[EXT_FIELD[t]!] as SadbAddress | undefined, t));
    case SADB_EXT_KEY_AUTH:
    case SADB_EXT_KEY_ENCRYPT: {
      const k = req(ext[EXT_FIELD[t]!] as SadbKey | undefined, t);
      return align8(SIZEOF.sadb_key + Math.ceil(k.bits / 8));
    }
    case SADB_EXT_IDENTITY_SRC:
    case SADB_EXT_IDENTITY_DST:
      return align8(SIZEOF.sadb_ident + (t === SADB_EXT_IDENTITY_SRC ? ext.identitySrc! : ext.identityDst!).data.length);
    case SADB_EXT_SENSITIVITY:
    case SADB_X_EXT_KMPRIVATE:
      throw new PfkeyError('PFKEY_ENCODE', `${extTypeName(t)} is decoded as its size only and cannot be encoded`);
    case SADB_EXT_PROPOSAL:
      return SIZEOF.sadb_prop + SIZEOF.sadb_comb * ext.proposal!.combs.length;
    case SADB_EXT_SUPPORTED_AUTH:
    case SADB_EXT_SUPPORTED_ENCRYPT:
      return SIZEOF.sadb_supported + SIZEOF.sadb_alg * (ext[EXT_FIELD[t]!] as SadbSupported).algs.length;
    case SADB_EXT_SPIRANGE:
      return SIZEOF.sadb_spirange;
    case SADB_X_EXT_POLICY:
      return align8(SIZEOF.sadb_x_policy + ext.policy!.requests.reduce((a, rq) => a + requestSize(rq), 0));
    case SADB_X_EXT_SA2:
      return SIZEOF.sadb_x_sa2;
    case SADB_X_EXT_NAT_T_TYPE:
      return SIZEOF.sadb_x_nat_t_type;
    case SADB_X_EXT_NAT_T_SPORT:
    case SADB_X_EXT_NAT_T_DPORT:
      return SIZEOF.sadb_x_nat_t_port;
    case SADB_X_EXT_SEC_CTX:
      return align8(SIZEOF.sadb_x_sec_ctx + ext.secCtx!.ctx.length);
    case SADB_X_EXT_KMADDRESS:
      return SIZEOF.sadb_x_kmaddress + pairSize(ext.kmaddress!.local.family);
    case SADB_X_EXT_FILTER:
      return SIZEOF.sadb_x_filter;
  }
  throw new PfkeyError('PFKEY_ENCODE', `unknown extension type ${t}`);
}

function writeLifetime(l: SadbLifetime, b: Buffer, off: number): void {
  b.writeUInt32LE(l.allocations >>> 0, off + 4);
  b.writeBigUInt64LE(l.bytes, off + 8);
  b.writeBigUInt64LE(l.addtime, off + 16);
  b.writeBigUInt64LE(l.usetime, off + 24);
}

function writeAddress(a: SadbAddress, b: Buffer, off: number): void {
  b[off + 4] = u8(a.proto, 'sadb_address_proto');
  b[off + 5] = u8(a.prefixlen, 'sadb_address_prefixlen');
  b.writeUInt16LE(a.reserved ?? 0, off + 6);
  encodeSockaddr(a.addr, b, off + 8);
}

function writePair(src: PfkeySockaddr, dst: PfkeySockaddr, b: Buffer, off: number, what: string): void {
  if (src.family !== dst.family) throw new PfkeyError('PFKEY_ENCODE', `${what}: sockaddr pair mixes ${src.family} and ${dst.family}`);
  const n = encodeSockaddr(src, b, off);
  encodeSockaddr(dst, b, off + n);
}

function writeExtension(t: number, ext: PfkeyExtensions, b: Buffer, off: number, size: number): void {
  switch (t) {
    case SADB_EXT_SA: {
      const sa = ext.sa!;
      b.writeUInt32BE(sa.spi >>> 0, off + 4);
      b[off + 8] = u8(sa.replay, 'sadb_sa_replay');
      b[off + 9] = u8(sa.state, 'sadb_sa_state');
      b[off + 10] = u8(sa.auth, 'sadb_sa_auth');
      b[off + 11] = u8(sa.encrypt, 'sadb_sa_encrypt');
      b.writeUInt32LE(sa.flags >>> 0, off + 12);
      return;
    }
    case SADB_EXT_LIFETIME_CURRENT:
      return writeLifetime(ext.lifetimeCurrent!, b, off);
    case SADB_EXT_LIFETIME_HARD:
      return writeLifetime(ext.lifetimeHard!, b, off);
    case SADB_EXT_LIFETIME_SOFT:
      return writeLifetime(ext.lifetimeSoft!, b, off);
    case SADB_EXT_ADDRESS_SRC:
      return writeAddress(ext.src!, b, off);
    case SADB_EXT_ADDRESS_DST:
      return writeAddress(ext.dst!, b, off);
    case SADB_EXT_ADDRESS_PROXY:
      return writeAddress(ext.proxy!, b, off);
    case SADB_X_EXT_NAT_T_OA:
      return writeAddress(ext.natTOa!, b, off);
    case SADB_EXT_KEY_AUTH:
    case SADB_EXT_KEY_ENCRYPT: {
      const k = (t === SADB_EXT_KEY_AUTH ? ext.keyAuth : ext.keyEncrypt)!;
      if (k.key.bits !== k.bits)
        throw new PfkeyError('PFKEY_ENCODE', `${extTypeName(t)}: sadb_key_bits ${k.bits} differs from the key's ${k.key.bits} bits`);
      b.writeUInt16LE(k.bits, off + 4);
      b.writeUInt16LE(k.reserved ?? 0, off + 6);
      k.key.copyTo(b, off + 8);
      return;
    }
    case SADB_EXT_IDENTITY_SRC:
    case SADB_EXT_IDENTITY_DST: {
      const id = (t === SADB_EXT_IDENTITY_SRC ? ext.identitySrc : ext.identityDst)!;
      b.writeUInt16LE(id.identType, off + 4);
      b.writeUInt16LE(id.reserved ?? 0, off + 6);
      b.writeBigUInt64LE(id.id, off + 8);
      id.data.copy(b, off + 16);
      return;
    }
    case SADB_EXT_PROPOSAL: {
      const p = ext.proposal!;
      b[off + 4] = u8(p.replay, 'sadb_prop_replay');
      b.writeUIntLE(p.reserved ?? 0, off + 5, 3);
      let q = off + SIZEOF.sadb_prop;
      for (const c of p.combs) {
        b[q] = u8(c.auth, 'sadb_comb_auth');
        b[q + 1] = u8(c.encrypt, 'sadb_comb_encrypt');
        b.writeUInt16LE(c.flags, q + 2);
        b.writeUInt16LE(c.authMinbits, q + 4);
        b.writeUInt16LE(c.authMaxbits, q + 6);
        b.writeUInt16LE(c.encryptMinbits, q + 8);
        b.writeUInt16LE(c.encryptMaxbits, q + 10);
        b.writeUInt32LE(c.reserved >>> 0, q + 12);
        b.writeUInt32LE(c.softAllocations >>> 0, q + 16);
        b.writeUInt32LE(c.hardAllocations >>> 0, q + 20);
        b.writeBigUInt64LE(c.softBytes, q + 24);
        b.writeBigUInt64LE(c.hardBytes, q + 32);
        b.writeBigUInt64LE(c.softAddtime, q + 40);
        b.writeBigUInt64LE(c.hardAddtime, q + 48);
        b.writeBigUInt64LE(c.softUsetime, q + 56);
        b.writeBigUInt64LE(c.hardUsetime, q + 64);
        q += SIZEOF.sadb_comb;
      }
      return;
    }
    case SADB_EXT_SUPPORTED_AUTH:
    case SADB_EXT_SUPPORTED_ENCRYPT: {
      const s = (t === SADB_EXT_SUPPORTED_AUTH ? ext.supportedAuth : ext.supportedEncrypt)!;
      b.writeUInt32LE(s.reserved >>> 0, off + 4);
      let q = off + SIZEOF.sadb_supported;
      for (const a of s.algs) {
        b[q] = u8(a.id, 'sadb_alg_id');
        b[q + 1] = u8(a.ivlen, 'sadb_alg_ivlen');
        b.writeUInt16LE(a.minbits, q + 2);
        b.writeUInt16LE(a.maxbits, q + 4);
        b.writeUInt16LE(a.reserved ?? 0, q + 6);
        q += SIZEOF.sadb_alg;
      }
      return;
    }
    case SADB_EXT_SPIRANGE: {
      const r = ext.spirange!;
      b.writeUInt32LE(r.min >>> 0, off + 4);
      b.writeUInt32LE(r.max >>> 0, off + 8);
      b.writeUInt32LE((r.reserved ?? 0) >>> 0, off + 12);
      return;
    }
    case SADB_X_EXT_POLICY: {
      const p = ext.policy!;
      b.writeUInt16LE(p.type, off + 4);
      b[off + 6] = u8(p.dir, 'sadb_x_policy_dir');
      b[off + 7] = u8(p.reserved ?? 0, 'sadb_x_policy_reserved');
      b.writeUInt32LE(p.id >>> 0, off + 8);
      b.writeUInt32LE(p.priority >>> 0, off + 12);
      let q = off + SIZEOF.sadb_x_policy;
      for (const rq of p.requests) {
        const len = requestSize(rq);
        if (len > 0xffff) throw new PfkeyError('PFKEY_ENCODE', `ipsecrequest of ${len} octets exceeds u16`);
        b.writeUInt16LE(len, q);
        b.writeUInt16LE(rq.proto, q + 2);
        b[q + 4] = u8(rq.mode, 'sadb_x_ipsecrequest_mode');
        b[q + 5] = u8(rq.level, 'sadb_x_ipsecrequest_level');
        b.writeUInt16LE(rq.reserved1 ?? 0, q + 6);
        b.writeUInt32LE(rq.reqid >>> 0, q + 8);
        b.writeUInt32LE((rq.reserved2 ?? 0) >>> 0, q + 12);
        if (rq.endpoints) writePair(rq.endpoints.src, rq.endpoints.dst, b, q + 16, 'ipsecrequest endpoints');
        q += len;
      }
      if (q > off + size) throw new PfkeyError('PFKEY_ENCODE', 'X_POLICY requests overflow the extension');
      return;
    }
    case SADB_X_EXT_SA2: {
      const s = ext.sa2!;
      b[off + 4] = u8(s.mode, 'sadb_x_sa2_mode');
      b[off + 5] = u8(s.reserved1 ?? 0, 'sadb_x_sa2_reserved1');
      b.writeUInt16LE(s.reserved2 ?? 0, off + 6);
      b.writeUInt32LE(s.sequence >>> 0, off + 8);
      b.writeUInt32LE(s.reqid >>> 0, off + 12);
      return;
    }
    case SADB_X_EXT_NAT_T_TYPE:
      b[off + 4] = u8(ext.natTType!.type, 'sadb_x_nat_t_type_type');
      b.writeUIntLE(ext.natTType!.reserved ?? 0, off + 5, 3);
      return;
    case SADB_X_EXT_NAT_T_SPORT:
    case SADB_X_EXT_NAT_T_DPORT: {
      const p = (t === SADB_X_EXT_NAT_T_SPORT ? ext.natTSport : ext.natTDport)!;
      b.writeUInt16BE(p.port & 0xffff, off + 4);
      b.writeUInt16LE(p.reserved ?? 0, off + 6);
      return;
    }
    case SADB_X_EXT_SEC_CTX: {
      const c = ext.secCtx!;
      b[off + 4] = u8(c.alg, 'sadb_x_ctx_alg');
      b[off + 5] = u8(c.doi, 'sadb_x_ctx_doi');
      b.writeUInt16LE(c.ctx.length, off + 6);
      c.ctx.copy(b, off + 8);
      return;
    }
    case SADB_X_EXT_KMADDRESS: {
      const k = ext.kmaddress!;
      b.writeUInt32LE(k.reserved >>> 0, off + 4);
      writePair(k.local, k.remote, b, off + 8, 'X_KMADDRESS');
      return;
    }
    case SADB_X_EXT_FILTER: {
      const f = ext.filter!;
      if (f.saddr.length > 16 || f.daddr.length > 16) throw new PfkeyError('PFKEY_ENCODE', 'X_FILTER addresses are 16 octets at most');
      f.saddr.copy(b, off + 4);
      f.daddr.copy(b, off + 20);
      b.writeUInt16LE(f.family, off + 36);
      b[off + 38] = u8(f.splen, 'sadb_x_filter_splen');
      b[off + 39] = u8(f.dplen, 'sadb_x_filter_dplen');
      return;
    }
  }
}

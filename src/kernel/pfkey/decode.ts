// PF_KEY v2 decoder: one datagram -> PfkeyMessage, or a PfkeyDecodeError naming the offset,
// the extension and what was expected. Unknown extension types are skipped and recorded.
// Lengths are checked the way af_key.c's parse_exthdrs checks requests.
import * as K from './constants.ts';
import { PfkeyDecodeError } from './errors.ts';
import { KeyMaterial as KeyMaterialImported } from './key-material.ts';
import * as S from './sockaddr.ts';
import { PfkeyMessageView as PfkeyMessageViewImported } from './message-view.ts';
import type {
  PfkeyExtensions,
  PfkeyMessage,
  PfkeySockaddr,
  SadbAddress,
  SadbComb,
  SadbIdentity,
  SadbIpsecRequest,
  SadbLifetime,
  SadbSupported,
  SadbXPolicy,
  UnknownExtension,
} from './types.ts';

// Local copies: reading imported bindings in the hot loop costs a getter call per access under
// tsx (the decoder runs for every SA event; see test/bench/pfkey.bench.ts).
const SADB_EXT_ADDRESS_DST = K.SADB_EXT_ADDRESS_DST;
const SADB_EXT_ADDRESS_PROXY = K.SADB_EXT_ADDRESS_PROXY;
const SADB_EXT_ADDRESS_SRC = K.SADB_EXT_ADDRESS_SRC;
const SADB_EXT_IDENTITY_DST = K.SADB_EXT_IDENTITY_DST;
const SADB_EXT_IDENTITY_SRC = K.SADB_EXT_IDENTITY_SRC;
const SADB_EXT_KEY_AUTH = K.SADB_EXT_KEY_AUTH;
const SADB_EXT_KEY_ENCRYPT = K.SADB_EXT_KEY_ENCRYPT;
const SADB_EXT_LIFETIME_CURRENT = K.SADB_EXT_LIFETIME_CURRENT;
const SADB_EXT_LIFETIME_HARD = K.SADB_EXT_LIFETIME_HARD;
const SADB_EXT_LIFETIME_SOFT = K.SADB_EXT_LIFETIME_SOFT;
const SADB_EXT_MAX = K.SADB_EXT_MAX;
const SADB_EXT_PROPOSAL = K.SADB_EXT_PROPOSAL;
const SADB_EXT_RESERVED = K.SADB_EXT_RESERVED;
const SADB_EXT_SA = K.SADB_EXT_SA;
const SADB_EXT_SENSITIVITY = K.SADB_EXT_SENSITIVITY;
const SADB_EXT_SPIRANGE = K.SADB_EXT_SPIRANGE;
const SADB_EXT_SUPPORTED_AUTH = K.SADB_EXT_SUPPORTED_AUTH;
const SADB_EXT_SUPPORTED_ENCRYPT = K.SADB_EXT_SUPPORTED_ENCRYPT;
const SADB_X_EXT_FILTER = K.SADB_X_EXT_FILTER;
const SADB_X_EXT_KMADDRESS = K.SADB_X_EXT_KMADDRESS;
const SADB_X_EXT_KMPRIVATE = K.SADB_X_EXT_KMPRIVATE;
const SADB_X_EXT_NAT_T_DPORT = K.SADB_X_EXT_NAT_T_DPORT;
const SADB_X_EXT_NAT_T_OA = K.SADB_X_EXT_NAT_T_OA;
const SADB_X_EXT_NAT_T_SPORT = K.SADB_X_EXT_NAT_T_SPORT;
const SADB_X_EXT_NAT_T_TYPE = K.SADB_X_EXT_NAT_T_TYPE;
const SADB_X_EXT_POLICY = K.SADB_X_EXT_POLICY;
const SADB_X_EXT_SA2 = K.SADB_X_EXT_SA2;
const SADB_X_EXT_SEC_CTX = K.SADB_X_EXT_SEC_CTX;
const EXT_MIN_LEN: readonly number[] = Array.from({ length: K.SADB_EXT_MAX + 1 }, (_, t) => K.EXT_MIN_LEN[t] ?? 0);
const extTypeName = K.extTypeName;
const KeyMaterial = KeyMaterialImported;
const PfkeyMessageView = PfkeyMessageViewImported;
const decodeSockaddr = S.decodeSockaddr;
const hostPrefix = S.hostPrefix;
const sockaddrLength = S.sockaddrLength;
const SZ_MSG = K.SIZEOF.sadb_msg;
const SZ_EXT = K.SIZEOF.sadb_ext;
const SZ_ADDRESS = K.SIZEOF.sadb_address;
const SZ_PROP = K.SIZEOF.sadb_prop;
const SZ_COMB = K.SIZEOF.sadb_comb;
const SZ_SUPPORTED = K.SIZEOF.sadb_supported;
const SZ_ALG = K.SIZEOF.sadb_alg;
const SZ_POLICY = K.SIZEOF.sadb_x_policy;
const SZ_IPSECREQUEST = K.SIZEOF.sadb_x_ipsecrequest;
const SZ_SEC_CTX = K.SIZEOF.sadb_x_sec_ctx;


export interface DecodeOptions {
  /**
   * Zero the key octets in `buf` once they are copied into KeyMaterial, so the raw datagram
   * no longer holds keys (the client does this; tests keep the input intact).
   */
  wipeKeys?: boolean;
  /**
   * Do not copy keys at all: KEY_AUTH/KEY_ENCRYPT are checked and left out of `ext`, and their
   * bit lengths go to `removedKeys` (the client's default: nothing downstream needs keys).
   */
  dropKeys?: boolean;
}

/** Decode one PF_KEY message; throws PfkeyDecodeError on malformed input. */
export function decodePfkeyMessage(buf: Buffer, opts: DecodeOptions = {}): PfkeyMessage {
  if (buf.length < SZ_MSG)
    throw new PfkeyDecodeError(`PF_KEY message of ${buf.length} octets is shorter than the 16-octet sadb_msg header`, 0);
  const units = buf.readUInt16LE(4);
  if (units * 8 !== buf.length)
    throw new PfkeyDecodeError(
      `sadb_msg_len is ${units} (${units * 8} octets) but the message has ${buf.length} octets`,
      4,
    );
  const msg = new PfkeyMessageView(
    buf[0]!,
    buf[1]!,
    buf[2]!,
    buf[3]!,
    buf.readUInt16LE(6),
    buf.readUInt32LE(8),
    buf.readUInt32LE(12),
    buf.length,
  );
  const ext = msg.ext;
  const order = msg.order;
  let off = SZ_MSG;
  let seen = 0; // bit per extension type (types 1..26 fit in 32 bits)
  while (off < buf.length) {
    const left = buf.length - off;
    if (left < SZ_EXT)
      throw new PfkeyDecodeError(`truncated extension header at offset ${off}: ${left} octets left, need 4`, off);
    const extUnits = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2);
    const len = extUnits * 8;
    if (extUnits === 0) throw new PfkeyDecodeError(`zero-length extension (type ${type}) at offset ${off}`, off);
    if (len > left)
      throw new PfkeyDecodeError(
        `extension ${extTypeName(type)} (type ${type}) at offset ${off} claims ${len} octets, only ${left} left`,
        off,
      );
    if (type === SADB_EXT_RESERVED) throw new PfkeyDecodeError(`extension type 0 (SADB_EXT_RESERVED) at offset ${off}`, off);
    if (type > SADB_EXT_MAX) {
      const u: UnknownExtension = { type, offset: off, length: len };
      (msg.unknown ??= []).push(u);
      order.push(type);
      off += len;
      continue;
    }
    const min = EXT_MIN_LEN[type]!;
    if (len < min)
      throw new PfkeyDecodeError(`extension ${extTypeName(type)} at offset ${off} is ${len} octets, needs at least ${min}`, off);
    const bit = 1 << type;
    if (seen & bit) throw new PfkeyDecodeError(`duplicate extension ${extTypeName(type)} at offset ${off}`, off);
    seen |= bit;
    decodeExtension(buf, off, len, type, msg, opts);
    order.push(type);
    off += len;
  }
  return msg;
}

function decodeExtension(b: Buffer, off: number, len: number, type: number, msg: PfkeyMessage, opts: DecodeOptions): void {
  const ext = msg.ext;
  switch (type) {
    case SADB_EXT_SA:
      ext.sa = {
        spi: b.readUInt32BE(off + 4),
        replay: b[off + 8]!,
        state: b[off + 9]!,
        auth: b[off + 10]!,
        encrypt: b[off + 11]!,
        flags: b.readUInt32LE(off + 12),
      };
      return;
    case SADB_EXT_LIFETIME_CURRENT:
      ext.lifetimeCurrent = lifetime(b, off);
      return;
    case SADB_EXT_LIFETIME_HARD:
      ext.lifetimeHard = lifetime(b, off);
      return;
    case SADB_EXT_LIFETIME_SOFT:
      ext.lifetimeSoft = lifetime(b, off);
      return;
    case SADB_EXT_ADDRESS_SRC:
      ext.src = address(b, off, len, type);
      return;
    case SADB_EXT_ADDRESS_DST:
      ext.dst = address(b, off, len, type);
      return;
    case SADB_EXT_ADDRESS_PROXY:
      ext.proxy = address(b, off, len, type);
      return;
    case SADB_X_EXT_NAT_T_OA:
      ext.natTOa = address(b, off, len, type);
      return;
    case SADB_EXT_KEY_AUTH:
    case SADB_EXT_KEY_ENCRYPT: {
      const bits = b.readUInt16LE(off + 4);
      const need = Math.ceil(bits / 8);
      if (8 + need > len)
        throw new PfkeyDecodeError(
          `${extTypeName(type)} at offset ${off}: ${bits} key bits need ${8 + need} octets, extension has ${len}`,
          off,
        );
      if (opts.dropKeys) {
        if (opts.wipeKeys) b.fill(0, off + 8, off + 8 + need);
        const removed = (msg.removedKeys ??= {});
        if (type === SADB_EXT_KEY_AUTH) removed.auth = bits;
        else removed.encrypt = bits;
        return;
      }
      const keyBytes = b.subarray(off + 8, off + 8 + need);
      const k = { bits, reserved: b.readUInt16LE(off + 6), key: new KeyMaterial(keyBytes, bits) };
      if (opts.wipeKeys) keyBytes.fill(0);
      if (type === SADB_EXT_KEY_AUTH) ext.keyAuth = k;
      else ext.keyEncrypt = k;
      return;
    }
    case SADB_EXT_IDENTITY_SRC:
    case SADB_EXT_IDENTITY_DST: {
      const id: SadbIdentity = {
        identType: b.readUInt16LE(off + 4),
        reserved: b.readUInt16LE(off + 6),
        id: b.readBigUInt64LE(off + 8),
        data: Buffer.from(b.subarray(off + 16, off + len)),
      };
      if (type === SADB_EXT_IDENTITY_SRC) ext.identitySrc = id;
      else ext.identityDst = id;
      return;
    }
    case SADB_EXT_SENSITIVITY:
      ext.sensitivity = { length: len };
      return;
    case SADB_EXT_PROPOSAL: {
      const body = len - SZ_PROP;
      if (body % SZ_COMB !== 0)
        throw new PfkeyDecodeError(
          `PROPOSAL at offset ${off}: ${body} octets after the header are not a whole number of 72-octet sadb_comb`,
          off,
        );
      const combs: SadbComb[] = [];
      for (let p = off + SZ_PROP; p < off + len; p += SZ_COMB) combs.push(comb(b, p));
      ext.proposal = { replay: b[off + 4]!, reserved: b.readUIntLE(off + 5, 3), combs };
      return;
    }
    case SADB_EXT_SUPPORTED_AUTH:
    case SADB_EXT_SUPPORTED_ENCRYPT: {
      const s: SadbSupported = { reserved: b.readUInt32LE(off + 4), algs: [] };
      for (let p = off + SZ_SUPPORTED; p < off + len; p += SZ_ALG) {
        s.algs.push({
          id: b[p]!,
          ivlen: b[p + 1]!,
          minbits: b.readUInt16LE(p + 2),
          maxbits: b.readUInt16LE(p + 4),
          reserved: b.readUInt16LE(p + 6),
        });
      }
      if (type === SADB_EXT_SUPPORTED_AUTH) ext.supportedAuth = s;
      else ext.supportedEncrypt = s;
      return;
    }
    case SADB_EXT_SPIRANGE:
      ext.spirange = { min: b.readUInt32LE(off + 4), max: b.readUInt32LE(off + 8), reserved: b.readUInt32LE(off + 12) };
      return;
    case SADB_X_EXT_KMPRIVATE:
      ext.kmprivate = { reserved: b.readUInt32LE(off + 4), length: len };
      return;
    case SADB_X_EXT_POLICY:
      ext.policy = policy(b, off, len);
      return;
    case SADB_X_EXT_SA2:
      ext.sa2 = {
        mode: b[off + 4]!,
        reserved1: b[off + 5]!,
        reserved2: b.readUInt16LE(off + 6),
        sequence: b.readUInt32LE(off + 8),
        reqid: b.readUInt32LE(off + 12),
      };
      return;
    case SADB_X_EXT_NAT_T_TYPE:
      ext.natTType = { type: b[off + 4]!, reserved: b.readUIntLE(off + 5, 3) };
      return;
    case SADB_X_EXT_NAT_T_SPORT:
      ext.natTSport = { port: b.readUInt16BE(off + 4), reserved: b.readUInt16LE(off + 6) };
      return;
    case SADB_X_EXT_NAT_T_DPORT:
      ext.natTDport = { port: b.readUInt16BE(off + 4), reserved: b.readUInt16LE(off + 6) };
      return;
    case SADB_X_EXT_SEC_CTX: {
      const ctxLen = b.readUInt16LE(off + 6);
      const want = Math.ceil((SZ_SEC_CTX + ctxLen) / 8) * 8;
      if (want !== len)
        throw new PfkeyDecodeError(
          `X_SEC_CTX at offset ${off}: ctx_len ${ctxLen} needs an extension of ${want} octets, it has ${len}`,
          off,
        );
      ext.secCtx = { alg: b[off + 4]!, doi: b[off + 5]!, ctx: Buffer.from(b.subarray(off + 8, off + 8 + ctxLen)) };
      return;
    }
    case SADB_X_EXT_KMADDRESS: {
      const pair = sockaddrPair(b, off + 8, len - 8, 'X_KMADDRESS');
      ext.kmaddress = { reserved: b.readUInt32LE(off + 4), local: pair.src, remote: pair.dst };
      return;
    }
    case SADB_X_EXT_FILTER:
      ext.filter = {
        saddr: Buffer.from(b.subarray(off + 4, off + 20)),
        daddr: Buffer.from(b.subarray(off + 20, off + 36)),
        family: b.readUInt16LE(off + 36),
        splen: b[off + 38]!,
        dplen: b[off + 39]!,
      };
      return;
  }
}

function lifetime(b: Buffer, off: number): SadbLifetime {
  return {
    allocations: b.readUInt32LE(off + 4),
    bytes: b.readBigUInt64LE(off + 8),
    addtime: b.readBigUInt64LE(off + 16),
    usetime: b.readBigUInt64LE(off + 24),
  };
}

function address(b: Buffer, off: number, len: number, type: number): SadbAddress {
  const what = `${extTypeName(type)} at offset ${off}`;
  const addr = decodeSockaddr(b, off + 8, len - 8, what);
  const need = Math.ceil((SZ_ADDRESS + sockaddrLength(addr.family)) / 8) * 8;
  if (len !== need)
    throw new PfkeyDecodeError(`${what}: ${addr.family} address extension must be ${need} octets, it is ${len}`, off);
  const prefixlen = b[off + 5]!;
  if (prefixlen > hostPrefix(addr.family))
    throw new PfkeyDecodeError(`${what}: prefix length ${prefixlen} exceeds ${hostPrefix(addr.family)}`, off + 5);
  return { proto: b[off + 4]!, prefixlen, reserved: b.readUInt16LE(off + 6), addr };
}

function sockaddrPair(b: Buffer, off: number, avail: number, what: string): { src: PfkeySockaddr; dst: PfkeySockaddr } {
  const src = decodeSockaddr(b, off, avail, `${what} first sockaddr`);
  const used = sockaddrLength(src.family);
  const dst = decodeSockaddr(b, off + used, avail - used, `${what} second sockaddr`);
  if (dst.family !== src.family)
    throw new PfkeyDecodeError(`${what}: sockaddr pair mixes ${src.family} and ${dst.family}`, off + used);
  return { src, dst };
}

function policy(b: Buffer, off: number, len: number): SadbXPolicy {
  const pol: SadbXPolicy = {
    type: b.readUInt16LE(off + 4),
    dir: b[off + 6]!,
    reserved: b[off + 7]!,
    id: b.readUInt32LE(off + 8),
    priority: b.readUInt32LE(off + 12),
    requests: [],
  };
  const end = off + len;
  let p = off + SZ_POLICY;
  // As af_key's parse_ipsecrequests: requests while a whole header fits; the rest is padding.
  while (end - p >= SZ_IPSECREQUEST) {
    const rqLen = b.readUInt16LE(p);
    if (rqLen < SZ_IPSECREQUEST || rqLen > end - p)
      throw new PfkeyDecodeError(
        `X_POLICY at offset ${off}: ipsecrequest at offset ${p} has length ${rqLen}, must be 16..${end - p}`,
        p,
      );
    const rq: SadbIpsecRequest = {
      proto: b.readUInt16LE(p + 2),
      mode: b[p + 4]!,
      level: b[p + 5]!,
      reserved1: b.readUInt16LE(p + 6),
      reqid: b.readUInt32LE(p + 8),
      reserved2: b.readUInt32LE(p + 12),
      length: rqLen,
    };
    if (rqLen > SZ_IPSECREQUEST)
      rq.endpoints = sockaddrPair(b, p + 16, rqLen - 16, `X_POLICY ipsecrequest at offset ${p}`);
    pol.requests.push(rq);
    p += rqLen;
  }
  return pol;
}

function comb(b: Buffer, p: number): SadbComb {
  return {
    auth: b[p]!,
    encrypt: b[p + 1]!,
    flags: b.readUInt16LE(p + 2),
    authMinbits: b.readUInt16LE(p + 4),
    authMaxbits: b.readUInt16LE(p + 6),
    encryptMinbits: b.readUInt16LE(p + 8),
    encryptMaxbits: b.readUInt16LE(p + 10),
    reserved: b.readUInt32LE(p + 12),
    softAllocations: b.readUInt32LE(p + 16),
    hardAllocations: b.readUInt32LE(p + 20),
    softBytes: b.readBigUInt64LE(p + 24),
    hardBytes: b.readBigUInt64LE(p + 32),
    softAddtime: b.readBigUInt64LE(p + 40),
    hardAddtime: b.readBigUInt64LE(p + 48),
    softUsetime: b.readBigUInt64LE(p + 56),
    hardUsetime: b.readBigUInt64LE(p + 64),
  };
}

/** Decode without throwing: the message or the precise error. */
export function tryDecodePfkeyMessage(
  buf: Buffer,
  opts: DecodeOptions = {},
): { ok: true; message: PfkeyMessage } | { ok: false; error: PfkeyDecodeError } {
  try {
    return { ok: true, message: decodePfkeyMessage(buf, opts) };
  } catch (e) {
    if (e instanceof PfkeyDecodeError) return { ok: false, error: e };
    // Anything else is a bug in this decoder; still never let a datagram crash the caller.
    return { ok: false, error: new PfkeyDecodeError(`PF_KEY decoder failed: ${(e as Error).message}`, 0) };
  }
}

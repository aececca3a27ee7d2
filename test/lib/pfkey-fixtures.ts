// PF_KEY v2 messages built octet by octet from the RFC 2367 / <linux/pfkeyv2.h> layouts with
// DataView, independently of src/kernel/pfkey (which these fixtures test). The shapes follow
// what Linux af_key.c emits: pfkey_xfrm_state2msg (SA, [LIFETIME_HARD], [LIFETIME_SOFT],
// LIFETIME_CURRENT, ADDRESS_SRC, ADDRESS_DST, [ADDRESS_PROXY], [KEY_AUTH], [KEY_ENCRYPT], X_SA2),
// pfkey_xfrm_policy2msg, compose_sadb_supported.

export type Bytes = Uint8Array;

/** "2001:db8::1"-free on purpose: addresses are given as 32 hex digits. */
export function hexBytes(hex: string): Bytes {
  const clean = hex.replace(/[^0-9a-f]/gi, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function block(len: number): { b: Bytes; v: DataView } {
  const b = new Uint8Array(len);
  return { b, v: new DataView(b.buffer) };
}

function extHeader(v: DataView, lenOctets: number, type: number): void {
  if (lenOctets % 8) throw new Error(`fixture bug: extension of ${lenOctets} octets is not 8-aligned`);
  v.setUint16(0, lenOctets / 8, true);
  v.setUint16(2, type, true);
}

export interface HeaderFields {
  version?: number;
  type: number;
  errno?: number;
  satype: number;
  reserved?: number;
  seq: number;
  pid: number;
}

/** sadb_msg followed by the extensions; sadb_msg_len is the total in 8-octet units. */
export function message(h: HeaderFields, exts: Bytes[]): Buffer {
  const total = 16 + exts.reduce((a, e) => a + e.length, 0);
  const { b, v } = block(total);
  v.setUint8(0, h.version ?? 2);
  v.setUint8(1, h.type);
  v.setUint8(2, h.errno ?? 0);
  v.setUint8(3, h.satype);
  v.setUint16(4, total / 8, true);
  v.setUint16(6, h.reserved ?? 0, true);
  v.setUint32(8, h.seq, true);
  v.setUint32(12, h.pid, true);
  let off = 16;
  for (const e of exts) {
    b.set(e, off);
    off += e.length;
  }
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function saExt(f: { spi: number; replay: number; state: number; auth: number; encrypt: number; flags: number }): Bytes {
  const { b, v } = block(16);
  extHeader(v, 16, 1);
  v.setUint32(4, f.spi, false); // network order
  v.setUint8(8, f.replay);
  v.setUint8(9, f.state);
  v.setUint8(10, f.auth);
  v.setUint8(11, f.encrypt);
  v.setUint32(12, f.flags, true);
  return b;
}

export function lifetimeExt(type: 2 | 3 | 4, f: { allocations: number; bytes: bigint; addtime: bigint; usetime: bigint }): Bytes {
  const { b, v } = block(32);
  extHeader(v, 32, type);
  v.setUint32(4, f.allocations, true);
  v.setBigUint64(8, f.bytes, true);
  v.setBigUint64(16, f.addtime, true);
  v.setBigUint64(24, f.usetime, true);
  return b;
}

/** sadb_address + sockaddr_in6 (28 octets) + 4 octets of padding = 40 octets. */
export function address6Ext(type: number, addr16: Bytes, f: { proto?: number; prefixlen?: number; port?: number } = {}): Bytes {
  const { b, v } = block(40);
  extHeader(v, 40, type);
  v.setUint8(4, f.proto ?? 0);
  v.setUint8(5, f.prefixlen ?? 128);
  v.setUint16(8, 10, true); // sin6_family = AF_INET6
  v.setUint16(10, f.port ?? 0, false);
  b.set(addr16, 16); // sin6_addr at sockaddr offset 8
  return b;
}

/** sadb_address + sockaddr_in (16 octets) = 24 octets. */
export function address4Ext(type: number, addr4: Bytes, f: { proto?: number; prefixlen?: number; port?: number } = {}): Bytes {
  const { b, v } = block(24);
  extHeader(v, 24, type);
  v.setUint8(4, f.proto ?? 0);
  v.setUint8(5, f.prefixlen ?? 32);
  v.setUint16(8, 2, true); // sin_family = AF_INET
  v.setUint16(10, f.port ?? 0, false);
  b.set(addr4, 12);
  return b;
}

export function keyExt(type: 8 | 9, bits: number, key: Bytes): Bytes {
  const len = Math.ceil((8 + Math.ceil(bits / 8)) / 8) * 8;
  const { b, v } = block(len);
  extHeader(v, len, type);
  v.setUint16(4, bits, true);
  b.set(key.subarray(0, Math.ceil(bits / 8)), 8);
  return b;
}

export function sa2Ext(mode: number, reqid: number, sequence = 0): Bytes {
  const { b, v } = block(16);
  extHeader(v, 16, 19);
  v.setUint8(4, mode);
  v.setUint32(8, sequence, true);
  v.setUint32(12, reqid, true);
  return b;
}

export function spirangeExt(min: number, max: number): Bytes {
  const { b, v } = block(16);
  extHeader(v, 16, 16);
  v.setUint32(4, min, true);
  v.setUint32(8, max, true);
  return b;
}

export function supportedExt(type: 14 | 15, algs: { id: number; ivlen: number; minbits: number; maxbits: number }[]): Bytes {
  const len = 8 + 8 * algs.length;
  const { b, v } = block(len);
  extHeader(v, len, type);
  algs.forEach((a, i) => {
    const o = 8 + i * 8;
    v.setUint8(o, a.id);
    v.setUint8(o + 1, a.ivlen);
    v.setUint16(o + 2, a.minbits, true);
    v.setUint16(o + 4, a.maxbits, true);
  });
  return b;
}

export interface IpsecRequestFields {
  proto: number;
  mode: number;
  level: number;
  reqid: number;
  /** tunnel endpoints as two 16-octet IPv6 addresses */
  tunnel6?: { src: Bytes; dst: Bytes };
}

/** sadb_x_policy + sadb_x_ipsecrequest list; request lengths are in octets (not 8-octet units). */
export function policyExt(f: { type: number; dir: number; id: number; priority: number; requests: IpsecRequestFields[] }): Bytes {
  const rqLens = f.requests.map((r) => 16 + (r.tunnel6 ? 2 * 28 : 0));
  const len = 16 + rqLens.reduce((a, x) => a + x, 0);
  const { b, v } = block(len);
  extHeader(v, len, 18);
  v.setUint16(4, f.type, true);
  v.setUint8(6, f.dir);
  v.setUint32(8, f.id, true);
  v.setUint32(12, f.priority, true);
  let o = 16;
  f.requests.forEach((r, i) => {
    v.setUint16(o, rqLens[i]!, true);
    v.setUint16(o + 2, r.proto, true);
    v.setUint8(o + 4, r.mode);
    v.setUint8(o + 5, r.level);
    v.setUint32(o + 8, r.reqid, true);
    if (r.tunnel6) {
      v.setUint16(o + 16, 10, true);
      b.set(r.tunnel6.src, o + 16 + 8);
      v.setUint16(o + 16 + 28, 10, true);
      b.set(r.tunnel6.dst, o + 16 + 28 + 8);
    }
    o += rqLens[i]!;
  });
  return b;
}

/** An extension of a type this codec does not know (e.g. a future kernel's). */
export function rawExt(type: number, lenOctets: number, fill = 0xab): Bytes {
  const { b, v } = block(lenOctets);
  b.fill(fill, 4);
  extHeader(v, lenOctets, type);
  return b;
}

// ---- whole messages as Linux sends them -------------------------------------------------

export const MN_HOA = hexBytes('20010db8000100000000000000000010'); // 2001:db8:1::10
export const CN_ADDR = hexBytes('20010db8000200000000000000000020'); // 2001:db8:2::20
export const AUTH_KEY = hexBytes('a1b2c3d4e5f60718293a4b5c6d7e8f90' + '0f1e2d3c4b5a69788796a5b4c3d2e1f0');
export const ENC_KEY = hexBytes('5eC12e7000112233445566778899aabb'.toLowerCase());

export interface SaNotifyFields {
  type: number; // 2 UPDATE, 3 ADD, 4 DELETE, 5 GET, 10 DUMP, 1 GETSPI
  satype?: number;
  seq: number;
  pid: number;
  spi: number;
  state?: number;
  src?: Bytes;
  dst?: Bytes;
  keys?: boolean;
  reqid?: number;
  mode?: number;
}

/** pfkey_xfrm_state2msg(x) with add_keys=1, hsc=3: an ADD/UPDATE/DELETE/GET/DUMP/GETSPI message. */
export function saNotify(f: SaNotifyFields): Buffer {
  const exts: Bytes[] = [
    saExt({ spi: f.spi, replay: 32, state: f.state ?? 1, auth: 5, encrypt: 12, flags: 0 }),
    lifetimeExt(3, { allocations: 0, bytes: 0n, addtime: 3600n, usetime: 0n }),
    lifetimeExt(4, { allocations: 0, bytes: 0n, addtime: 3000n, usetime: 0n }),
    lifetimeExt(2, { allocations: 7, bytes: 1234n, addtime: 1700000000n, usetime: 1700000005n }),
    address6Ext(5, f.src ?? MN_HOA),
    address6Ext(6, f.dst ?? CN_ADDR),
  ];
  if (f.keys ?? true) exts.push(keyExt(8, 256, AUTH_KEY), keyExt(9, 128, ENC_KEY));
  exts.push(sa2Ext(f.mode ?? 1, f.reqid ?? 0x1234));
  return message({ type: f.type, satype: f.satype ?? 3, seq: f.seq, pid: f.pid }, exts);
}

/** key_notify_sa_expire: no keys, LIFETIME_HARD (hard) or LIFETIME_SOFT (soft), seq 0, pid 0. */
export function expireNotify(hard: boolean, spi: number): Buffer {
  return message({ type: 8, satype: 3, seq: 0, pid: 0 }, [
    saExt({ spi, replay: 32, state: hard ? 3 : 2, auth: 5, encrypt: 12, flags: 0 }),
    hard
      ? lifetimeExt(3, { allocations: 0, bytes: 0n, addtime: 3n, usetime: 0n })
      : lifetimeExt(4, { allocations: 0, bytes: 0n, addtime: 2n, usetime: 0n }),
    lifetimeExt(2, { allocations: 0, bytes: 0n, addtime: 1700000000n, usetime: 0n }),
    address6Ext(5, MN_HOA),
    address6Ext(6, CN_ADDR),
    sa2Ext(1, 0),
  ]);
}

/** compose_sadb_supported: the REGISTER reply (header copied from the request). */
export function registerReply(seq: number, pid: number, satype = 3): Buffer {
  return message({ type: 7, satype, seq, pid }, [
    supportedExt(14, [
      { id: 3, ivlen: 0, minbits: 160, maxbits: 160 },
      { id: 5, ivlen: 0, minbits: 256, maxbits: 256 },
    ]),
    supportedExt(15, [{ id: 12, ivlen: 8, minbits: 128, maxbits: 256 }]),
  ]);
}

/** pfkey_xfrm_policy2msg: SPDADD notification of an out policy HoA->CN proto 135 with one ESP transport template. */
export function spdAddNotify(seq: number, pid: number, id = 0x101, refcnt = 2): Buffer {
  return message({ type: 14, satype: 0, seq, pid, reserved: refcnt }, [
    address6Ext(5, MN_HOA, { proto: 135, prefixlen: 128 }),
    address6Ext(6, CN_ADDR, { proto: 135, prefixlen: 128 }),
    lifetimeExt(3, { allocations: 0, bytes: 0n, addtime: 0n, usetime: 0n }),
    lifetimeExt(4, { allocations: 0, bytes: 0n, addtime: 0n, usetime: 0n }),
    lifetimeExt(2, { allocations: 0, bytes: 0n, addtime: 1700000000n, usetime: 0n }),
    policyExt({ type: 2, dir: 2, id, priority: 1000, requests: [{ proto: 50, mode: 1, level: 3, reqid: 7 }] }),
  ]);
}

/** A GETSPI request as another socket sends it (echoed to promiscuous sockets): no SA extension. */
export function getspiRequestEcho(seq: number, pid: number): Buffer {
  return message({ type: 1, satype: 3, seq, pid }, [address6Ext(5, CN_ADDR), address6Ext(6, MN_HOA), spirangeExt(0x100, 0xfff)]);
}

/** An error reply (pfkey_error): the request header with errno set and len 2. */
export function errorReply(type: number, satype: number, seq: number, pid: number, errno: number): Buffer {
  return message({ type, satype, seq, pid, errno }, []);
}

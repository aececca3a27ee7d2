// Test packets built byte by byte, independently of the code under test (no shared codec):
// Ethernet + IPv6 + extension headers + ESP / AH / UDP / TCP / ICMPv6.
import { isIPv6 } from 'node:net';

/** Minimal independent IPv6 text -> bytes (tests must not rely on src/common/ipv6.ts). */
export function ip6(text: string): Buffer {
  if (!isIPv6(text)) throw new Error(`bad IPv6 in test: ${text}`);
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const words = (s: string | undefined) => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const t = words(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  all.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
}

export type ExtHeader =
  | { type: 'hop' | 'dst'; len8?: number }
  | { type: 'routing'; segments?: string[] }
  | { type: 'frag'; offset: number; more: boolean; id: number };

export type Payload =
  | { esp: { spi: number; seq?: number; body?: Buffer } }
  | { ah: { spi: number; seq?: number; next?: number; icv?: Buffer; body?: Buffer } }
  | { udp: { sport: number; dport: number; body?: Buffer } }
  | { tcp: { sport: number; dport: number } }
  | { icmp6: { type: number; code?: number; body: Buffer } }
  | { raw: { proto: number; body: Buffer } };

export interface Ip6Spec {
  src: string;
  dst: string;
  ext?: ExtHeader[];
  payload: Payload;
  hopLimit?: number;
}

const EXT_CODE = { hop: 0, routing: 43, frag: 44, dst: 60 } as const;

function extBytes(e: ExtHeader, next: number): Buffer {
  if (e.type === 'frag') {
    const b = Buffer.alloc(8);
    b[0] = next;
    b.writeUInt16BE(((e.offset & 0x1fff) << 3) | (e.more ? 1 : 0), 2);
    b.writeUInt32BE(e.id >>> 0, 4);
    return b;
  }
  if (e.type === 'routing') {
    const segs = e.segments ?? [];
    const b = Buffer.alloc(8 + 16 * segs.length);
    b[0] = next;
    b[1] = segs.length * 2;
    b[2] = 0; // type 0 is deprecated but parseable; the walk only needs the length
    b[3] = segs.length;
    segs.forEach((s, i) => ip6(s).copy(b, 8 + 16 * i));
    return b;
  }
  const n = e.len8 ?? 0;
  const b = Buffer.alloc(8 * (n + 1));
  b[0] = next;
  b[1] = n;
  // PadN filling the rest, so the options area is well formed
  b[2] = 1;
  b[3] = b.length - 4;
  return b;
}

/** Internet checksum (RFC 1071), written separately from the project's own. */
export function inetChecksum(...parts: Buffer[]): number {
  let sum = 0;
  const all = Buffer.concat(parts);
  for (let i = 0; i < all.length; i += 2) sum += (all[i]! << 8) | (all[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudo(src: Buffer, dst: Buffer, len: number, nh: number): Buffer {
  const p = Buffer.alloc(40);
  src.copy(p, 0);
  dst.copy(p, 16);
  p.writeUInt32BE(len, 32);
  p[39] = nh;
  return p;
}

function payloadBytes(p: Payload, src: Buffer, dst: Buffer): { proto: number; bytes: Buffer } {
  if ('esp' in p) {
    const body = p.esp.body ?? Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const h = Buffer.alloc(8);
    h.writeUInt32BE(p.esp.spi >>> 0, 0);
    h.writeUInt32BE((p.esp.seq ?? 1) >>> 0, 4);
    return { proto: 50, bytes: Buffer.concat([h, body]) };
  }
  if ('ah' in p) {
    const icv = p.ah.icv ?? Buffer.alloc(12, 0xab);
    const h = Buffer.alloc(12);
    h[0] = p.ah.next ?? 59;
    h[1] = (12 + icv.length) / 4 - 2;
    h.writeUInt32BE(p.ah.spi >>> 0, 4);
    h.writeUInt32BE((p.ah.seq ?? 1) >>> 0, 8);
    return { proto: 51, bytes: Buffer.concat([h, icv, p.ah.body ?? Buffer.alloc(8, 0x5a)]) };
  }
  if ('udp' in p) {
    const body = p.udp.body ?? Buffer.from('hello');
    const h = Buffer.alloc(8);
    h.writeUInt16BE(p.udp.sport, 0);
    h.writeUInt16BE(p.udp.dport, 2);
    h.writeUInt16BE(8 + body.length, 4);
    const c = inetChecksum(pseudo(src, dst, 8 + body.length, 17), h, body);
    h.writeUInt16BE(c === 0 ? 0xffff : c, 6);
    return { proto: 17, bytes: Buffer.concat([h, body]) };
  }
  if ('tcp' in p) {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(p.tcp.sport, 0);
    h.writeUInt16BE(p.tcp.dport, 2);
    h[12] = 5 << 4;
    h[13] = 0x02; // SYN
    h.writeUInt16BE(65535, 14);
    h.writeUInt16BE(inetChecksum(pseudo(src, dst, 20, 6), h), 16);
    return { proto: 6, bytes: h };
  }
  if ('icmp6' in p) {
    const h = Buffer.alloc(4);
    h[0] = p.icmp6.type;
    h[1] = p.icmp6.code ?? 0;
    const msg = Buffer.concat([h, p.icmp6.body]);
    msg.writeUInt16BE(inetChecksum(pseudo(src, dst, msg.length, 58), msg), 2);
    return { proto: 58, bytes: msg };
  }
  return { proto: p.raw.proto, bytes: p.raw.body };
}

/** An IPv6 packet (no L2). */
export function ipv6Packet(spec: Ip6Spec): Buffer {
  const src = ip6(spec.src);
  const dst = ip6(spec.dst);
  const pl = payloadBytes(spec.payload, src, dst);
  const exts = spec.ext ?? [];
  const parts: Buffer[] = [];
  for (let i = 0; i < exts.length; i++) {
    const next = i + 1 < exts.length ? EXT_CODE[exts[i + 1]!.type] : pl.proto;
    parts.push(extBytes(exts[i]!, next));
  }
  const rest = Buffer.concat([...parts, pl.bytes]);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(rest.length, 4);
  h[6] = exts.length ? EXT_CODE[exts[0]!.type] : pl.proto;
  h[7] = spec.hopLimit ?? 64;
  src.copy(h, 8);
  dst.copy(h, 24);
  return Buffer.concat([h, rest]);
}

export const MAC_A = Buffer.from('020000000001', 'hex');
export const MAC_B = Buffer.from('020000000002', 'hex');

/** Ethernet frame around an IPv6 packet (what tc programs see on a veth). */
export function ethernet(ipv6: Buffer, dst = MAC_B, src = MAC_A, ethertype = 0x86dd): Buffer {
  const h = Buffer.alloc(14);
  dst.copy(h, 0);
  src.copy(h, 6);
  h.writeUInt16BE(ethertype, 12);
  return Buffer.concat([h, ipv6]);
}

export function frame(spec: Ip6Spec): Buffer {
  return ethernet(ipv6Packet(spec));
}

/** Read back the addresses of an Ethernet+IPv6 frame, as text, by plain offsets. */
export function frameAddrs(f: Buffer): { src: string; dst: string } {
  return { src: ip6text(f.subarray(22, 38)), dst: ip6text(f.subarray(38, 54)) };
}

export function ip6text(b: Buffer): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(b.readUInt16BE(i).toString(16));
  // expand-compare in tests: normalise through the same independent parser
  return words.join(':');
}

/** Canonical comparison helper: equal as addresses? */
export function sameAddr(a: string, b: string): boolean {
  return ip6(a).equals(ip6(b));
}

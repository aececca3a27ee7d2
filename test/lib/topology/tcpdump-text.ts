// Parsing what `tcpdump -r FILE -nn -v -x` prints (tcpdump is the decoder; this only reads its
// text). One packet starts with a timestamp line; indented text lines continue its decode;
// "\t0x0000:  6000 ..." lines are the packet from the network header on. Addresses, ESP/AH SPIs
// and the first next-header come from tcpdump's text; the extension header walk and the byte
// search use its hex dump. The text's addresses are checked against the hex.
import { isIPv6 } from 'node:net';
import { canonicalIPv6, formatIPv6 } from '../../../src/common/ipv6.ts';
import { addressBytes, findAll, protocolName, walkHeaders } from './header-chain.ts';

export interface IpsecHeaderInfo {
  spi: number;
  seq: number;
}

export interface CapturedPacket {
  /** 1-based position in the capture */
  index: number;
  /** tcpdump's timestamp text */
  time: string;
  /** an IPv6 packet (else only `text` and `raw` are meaningful) */
  ip6: boolean;
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  hopLimit?: number;
  payloadLength?: number;
  /** the outer header's next header as tcpdump named it, e.g. {name: 'ESP', number: 50} */
  nextHeader?: { name: string; number: number };
  /** every ESP / AH header tcpdump decoded, outermost first */
  esp: IpsecHeaderInfo[];
  ah: IpsecHeaderInfo[];
  /** the next-header chain from the hex, e.g. [60, 17] or [51, 50] */
  headerChain: number[];
  /** headerChain as names, e.g. ['DSTOPT', 'UDP'] */
  protocols: string[];
  /** bytes of the (outer and inner) IPv6 headers and extension headers */
  headersLength: number;
  /** tcpdump's decode after "SRC > DST: " on the first line */
  summary: string;
  /** every text line of the packet except the hex dump */
  text: string;
  /** from the network header on */
  raw: Buffer;
}

const START = /^(\d{2}:\d{2}:\d{2}\.\d{6,9}) (.*)$/;
const HEX = /^\t0x([0-9a-f]{4}):  ((?:[0-9a-f]{2,4} ?)+)\s*$/;

export class TcpdumpParseError extends Error {
  constructor(line: number, why: string, text: string) {
    super(`tcpdump output line ${line}: ${why}: ${JSON.stringify(text.slice(0, 200))}`);
    this.name = 'TcpdumpParseError';
  }
}

export function parseTcpdump(output: string): CapturedPacket[] {
  const packets: CapturedPacket[] = [];
  let cur: { first: string; time: string; lineNo: number; text: string[]; hex: Buffer[]; nextOffset: number } | null = null;
  const flush = () => {
    if (cur) packets.push(buildPacket(packets.length + 1, cur.time, cur.first, cur.text, Buffer.concat(cur.hex), cur.lineNo));
    cur = null;
  };
  const lines = output.split('\n');
  lines.forEach((line, i) => {
    if (line === '') return;
    const start = START.exec(line);
    if (start) {
      flush();
      cur = { first: start[2]!, time: start[1]!, lineNo: i + 1, text: [line], hex: [], nextOffset: 0 };
      return;
    }
    if (!cur) throw new TcpdumpParseError(i + 1, 'text before the first packet', line);
    const c = cur as { text: string[]; hex: Buffer[]; nextOffset: number };
    const hex = HEX.exec(line);
    if (hex) {
      const offset = parseInt(hex[1]!, 16);
      if (offset !== c.nextOffset) throw new TcpdumpParseError(i + 1, `hex offset 0x${hex[1]} where 0x${c.nextOffset.toString(16).padStart(4, '0')} was expected`, line);
      const bytes = Buffer.from(hex[2]!.replace(/\s+/g, ''), 'hex');
      c.hex.push(bytes);
      c.nextOffset += bytes.length;
      return;
    }
    if (/^\s/.test(line)) {
      if (c.hex.length) throw new TcpdumpParseError(i + 1, 'decode text after the hex dump', line);
      c.text.push(line);
      return;
    }
    throw new TcpdumpParseError(i + 1, 'unexpected line', line);
  });
  flush();
  return packets;
}

/** Index just after the parenthesised group that starts at s[open] === '('. */
function closeParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

/** "2001:db8::1.5000" -> address and port; an address with embedded IPv4 keeps its dots. */
function splitEndpoint(tok: string): { addr: string; port?: number } {
  if (isIPv6(tok)) return { addr: tok };
  const dot = tok.lastIndexOf('.');
  if (dot > 0 && /^\d+$/.test(tok.slice(dot + 1)) && isIPv6(tok.slice(0, dot))) return { addr: tok.slice(0, dot), port: Number(tok.slice(dot + 1)) };
  return { addr: tok };
}

function ipsecHeaders(text: string, kind: 'ESP' | 'AH'): IpsecHeaderInfo[] {
  const re = new RegExp(`\\b${kind}\\([^\\n]*?spi=0x([0-9a-f]+)[^\\n]*?seq=0x([0-9a-f]+)`, 'g');
  return [...text.matchAll(re)].map((m) => ({ spi: parseInt(m[1]!, 16), seq: parseInt(m[2]!, 16) }));
}

function buildPacket(index: number, time: string, first: string, textLines: string[], raw: Buffer, lineNo: number): CapturedPacket {
  const chainInfo = walkHeaders(raw);
  const base: CapturedPacket = {
    index, time, ip6: false, src: '', dst: '', esp: [], ah: [],
    headerChain: chainInfo.chain, protocols: chainInfo.chain.map(protocolName), headersLength: chainInfo.headersLength,
    summary: first, text: textLines.join('\n'), raw,
  };
  if (!first.startsWith('IP6 (')) return base;
  const close = closeParen(first, 4);
  if (close < 0) throw new TcpdumpParseError(lineNo, 'unbalanced IPv6 header decode', first);
  const header = first.slice(5, close - 1);
  const rest = first.slice(close + 1);
  // Extension headers are printed between the addresses and the upper layer's ports, so the
  // addresses are the first "X > Y:" pair.
  const m = /^(\S+) > (\S+?):(?: (.*))?$/.exec(rest);
  if (!m) throw new TcpdumpParseError(lineNo, 'no "SRC > DST:" after the IPv6 header', first);
  const s = splitEndpoint(m[1]!);
  const d = splitEndpoint(m[2]!);
  if (!isIPv6(s.addr) || !isIPv6(d.addr)) throw new TcpdumpParseError(lineNo, 'addresses are not IPv6', first);
  const summary = m[3] ?? '';
  const ports = /(?:^|\s)(\d+) > (\d+):/.exec(summary);
  const nh = /next-header (.+?) \((\d+)\)/.exec(header);
  const hlim = /hlim (\d+)/.exec(header);
  const plen = /payload length: (\d+)/.exec(header);
  const all = textLines.join('\n');
  const p: CapturedPacket = {
    ...base,
    ip6: true,
    src: canonicalIPv6(s.addr),
    dst: canonicalIPv6(d.addr),
    summary,
    esp: ipsecHeaders(all, 'ESP'),
    ah: ipsecHeaders(all, 'AH'),
  };
  const sp = s.port ?? (ports ? Number(ports[1]) : undefined);
  const dp = d.port ?? (ports ? Number(ports[2]) : undefined);
  if (sp !== undefined) p.srcPort = sp;
  if (dp !== undefined) p.dstPort = dp;
  if (nh) p.nextHeader = { name: nh[1]!, number: Number(nh[2]) };
  if (hlim) p.hopLimit = Number(hlim[1]);
  if (plen) p.payloadLength = Number(plen[1]);
  if (raw.length >= 40) {
    const rawSrc = formatIPv6(raw.subarray(8, 24));
    const rawDst = formatIPv6(raw.subarray(24, 40));
    if (rawSrc !== p.src || rawDst !== p.dst)
      throw new TcpdumpParseError(lineNo, `text says ${p.src} > ${p.dst} but the hex dump has ${rawSrc} > ${rawDst}`, first);
  }
  return p;
}

/** Packets whose IPv6 headers or extension headers contain `addr` as bytes. */
export function packetsWithAddressInHeaders(packets: readonly CapturedPacket[], addr: string | Uint8Array): CapturedPacket[] {
  const needle = addressBytes(addr);
  return packets.filter((p) => findAll(p.raw, needle, p.headersLength).length > 0);
}

/** Packets that contain `addr` as bytes anywhere (headers, payload, quoted packets in ICMP errors). */
export function packetsWithAddressAnywhere(packets: readonly CapturedPacket[], addr: string | Uint8Array): CapturedPacket[] {
  const needle = addressBytes(addr);
  return packets.filter((p) => findAll(p.raw, needle).length > 0);
}

export function headersContain(p: CapturedPacket, addr: string | Uint8Array): boolean {
  return findAll(p.raw, addressBytes(addr), p.headersLength).length > 0;
}

export function isEsp(p: CapturedPacket): boolean {
  return p.headerChain.includes(50);
}

/** Neighbour discovery (133-137) and MLD (130-132, 143): link housekeeping, not test traffic. */
export function isLinkHousekeeping(p: CapturedPacket): boolean {
  if (!p.ip6) return false;
  const last = p.headerChain[p.headerChain.length - 1];
  if (last !== 58) return false;
  const type = p.raw[p.headersLength];
  return type !== undefined && ((type >= 130 && type <= 137) || type === 143);
}

/** Packets between a and b, either direction. */
export function between(packets: readonly CapturedPacket[], a: string, b: string): CapturedPacket[] {
  const x = canonicalIPv6(a);
  const y = canonicalIPv6(b);
  return packets.filter((p) => (p.src === x && p.dst === y) || (p.src === y && p.dst === x));
}

/** One line per packet, for assertion messages. */
export function describePacket(p: CapturedPacket): string {
  if (!p.ip6) return `#${p.index} ${p.summary}`;
  const spi = [...p.esp.map((e) => `esp spi=0x${e.spi.toString(16)}`), ...p.ah.map((a) => `ah spi=0x${a.spi.toString(16)}`)];
  return `#${p.index} ${p.src} > ${p.dst} [${p.protocols.join('/')}]${spi.length ? ` ${spi.join(' ')}` : ''} ${p.summary}`;
}

export function describePackets(ps: readonly CapturedPacket[], max = 20): string {
  const lines = ps.slice(0, max).map(describePacket);
  if (ps.length > max) lines.push(`... and ${ps.length - max} more`);
  return lines.join('\n');
}

// Netlink attributes (struct nlattr {u16 len, u16 type}, 4-byte aligned), nested via
// NLA_F_NESTED. Encoders build byte arrays; the parser checks every length it reads.
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HDRLEN, NLA_TYPE_MASK, nlAlign } from './constants.ts';
import { NetlinkParseError } from './message.ts';

export interface NetlinkAttribute {
  type: number;
  nested: boolean;
  netByteOrder: boolean;
  /** attribute payload without header or padding (a view into the message) */
  data: Buffer;
  /** offset of the attribute header within the buffer that was parsed */
  offset: number;
}

/** One attribute with header and padding. */
export function attr(type: number, data: Uint8Array): Buffer {
  const len = NLA_HDRLEN + data.length;
  if (len > 0xffff) throw new RangeError(`netlink attribute ${type & NLA_TYPE_MASK}: ${data.length} bytes do not fit a 16-bit length`);
  const out = Buffer.alloc(nlAlign(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  out.set(data, NLA_HDRLEN);
  return out;
}

export function attrNested(type: number, children: Buffer[]): Buffer {
  return attr(type | NLA_F_NESTED, Buffer.concat(children));
}

export function attrU8(type: number, v: number): Buffer {
  return attr(type, Buffer.from([v & 0xff]));
}

export function attrU16(type: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return attr(type, b);
}

export function attrU32(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return attr(type, b);
}

export function attrS32(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return attr(type, b);
}

export function attrU64(type: number, v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return attr(type, b);
}

/** NUL-terminated string attribute (NLA_NUL_STRING / NLA_STRING as iproute2 sends them). */
export function attrString(type: number, s: string): Buffer {
  return attr(type, Buffer.from(s + '\0', 'utf8'));
}

/** Parse the attributes in buf[start, end). Throws NetlinkParseError naming `what` on malformation. */
export function parseAttributes(buf: Buffer, what: string, start = 0, end = buf.length): NetlinkAttribute[] {
  const out: NetlinkAttribute[] = [];
  let off = start;
  while (off < end) {
    const rest = end - off;
    if (rest < NLA_HDRLEN) {
      throw new NetlinkParseError(`${what}: ${rest} stray bytes after the last attribute (offset ${off})`, off);
    }
    const len = buf.readUInt16LE(off);
    const rawType = buf.readUInt16LE(off + 2);
    const type = rawType & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN) {
      throw new NetlinkParseError(`${what}: attribute type ${type} at offset ${off} has length ${len} (< 4)`, off);
    }
    if (len > rest) {
      throw new NetlinkParseError(`${what}: attribute type ${type} at offset ${off} has length ${len}, only ${rest} bytes left`, off);
    }
    out.push({
      type,
      nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      data: buf.subarray(off + NLA_HDRLEN, off + len),
      offset: off,
    });
    off += Math.min(nlAlign(len), rest);
  }
  return out;
}

/** Attributes grouped by type: first() for single-valued ones, all() for repeated ones. */
export class AttributeSet {
  readonly list: NetlinkAttribute[];
  private readonly byType = new Map<number, NetlinkAttribute[]>();

  constructor(list: NetlinkAttribute[]) {
    this.list = list;
    for (const a of list) {
      const l = this.byType.get(a.type);
      if (l) l.push(a);
      else this.byType.set(a.type, [a]);
    }
  }

  static parse(buf: Buffer, what: string, start = 0, end = buf.length): AttributeSet {
    return new AttributeSet(parseAttributes(buf, what, start, end));
  }

  has(type: number): boolean {
    return this.byType.has(type);
  }

  first(type: number): NetlinkAttribute | undefined {
    return this.byType.get(type)?.[0];
  }

  all(type: number): NetlinkAttribute[] {
    return this.byType.get(type) ?? [];
  }
}

/** Readers that check the payload size; `what` names the attribute in the error. */
export function expectLength(a: NetlinkAttribute, min: number, what: string): Buffer {
  if (a.data.length < min) {
    throw new NetlinkParseError(`${what}: attribute payload is ${a.data.length} bytes, expected at least ${min}`, a.offset);
  }
  return a.data;
}

export function readU8(a: NetlinkAttribute, what: string): number {
  return expectLength(a, 1, what).readUInt8(0);
}

export function readU16(a: NetlinkAttribute, what: string): number {
  return expectLength(a, 2, what).readUInt16LE(0);
}

export function readU32(a: NetlinkAttribute, what: string): number {
  return expectLength(a, 4, what).readUInt32LE(0);
}

export function readS32(a: NetlinkAttribute, what: string): number {
  return expectLength(a, 4, what).readInt32LE(0);
}

export function readU64(a: NetlinkAttribute, what: string): bigint {
  return expectLength(a, 8, what).readBigUInt64LE(0);
}

/** A string attribute; stops at the first NUL (the kernel's strings are NUL-terminated). */
export function readString(a: NetlinkAttribute): string {
  const nul = a.data.indexOf(0);
  return a.data.toString('utf8', 0, nul < 0 ? a.data.length : nul);
}

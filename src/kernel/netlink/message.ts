// Netlink message framing: nlmsghdr {u32 len, u16 type, u16 flags, u32 seq, u32 pid} in host
// byte order, each message padded to 4 bytes. Parsing never trusts a length it has not checked.
import { NLMSG_HDRLEN, nlAlign } from './constants.ts';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Netlink is host-endian; every codec here writes little-endian fields.
  throw new Error('iro-ctl netlink codecs support little-endian hosts only');
}

export interface NetlinkHeader {
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

export interface NetlinkMessage extends NetlinkHeader {
  /** the bytes after the 16-byte header, nlmsg_len - 16 long (a view into the datagram) */
  payload: Buffer;
}

/** A malformed netlink datagram, message or attribute. */
export class NetlinkParseError extends Error {
  /** byte offset of the problem within the buffer being parsed */
  readonly offset: number;
  /** header of the message concerned when it could be read (lets a request be failed) */
  readonly header?: NetlinkHeader;
  constructor(message: string, offset: number, header?: NetlinkHeader) {
    super(message);
    this.name = 'NetlinkParseError';
    this.offset = offset;
    if (header) this.header = header;
  }
}

/** One message: header + payload parts, with nlmsg_len filled in. */
export function encodeMessage(h: NetlinkHeader, ...payload: Buffer[]): Buffer {
  let len = NLMSG_HDRLEN;
  for (const p of payload) len += p.length;
  const out = Buffer.alloc(nlAlign(len));
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(h.type, 4);
  out.writeUInt16LE(h.flags, 6);
  out.writeUInt32LE(h.seq >>> 0, 8);
  out.writeUInt32LE(h.pid >>> 0, 12);
  let off = NLMSG_HDRLEN;
  for (const p of payload) {
    p.copy(out, off);
    off += p.length;
  }
  return out;
}

export function readHeader(buf: Buffer, offset = 0): NetlinkHeader & { length: number } {
  if (buf.length - offset < NLMSG_HDRLEN) {
    throw new NetlinkParseError(`netlink header truncated: ${buf.length - offset} of 16 bytes`, offset);
  }
  return {
    length: buf.readUInt32LE(offset),
    type: buf.readUInt16LE(offset + 4),
    flags: buf.readUInt16LE(offset + 6),
    seq: buf.readUInt32LE(offset + 8),
    pid: buf.readUInt32LE(offset + 12),
  };
}

export interface ParsedDatagram {
  messages: NetlinkMessage[];
  /** set when the datagram had a malformed part; messages holds what preceded it */
  error?: NetlinkParseError;
}

/** Split a datagram into messages. Stops at the first malformed message and reports it. */
export function parseDatagram(buf: Buffer): ParsedDatagram {
  const messages: NetlinkMessage[] = [];
  const n = buf.length;
  let off = 0;
  // header fields read in place: this runs once per message of every dump and event
  while (off < n) {
    const rest = n - off;
    if (rest < NLMSG_HDRLEN) {
      // Trailing zero padding is legal; anything else is a truncated header.
      if (buf.subarray(off).every((b) => b === 0)) break;
      return { messages, error: new NetlinkParseError(`netlink header truncated: ${rest} of 16 bytes at offset ${off}`, off) };
    }
    const length = buf.readUInt32LE(off);
    const type = buf.readUInt16LE(off + 4);
    const flags = buf.readUInt16LE(off + 6);
    const seq = buf.readUInt32LE(off + 8);
    const pid = buf.readUInt32LE(off + 12);
    if (length < NLMSG_HDRLEN) {
      return { messages, error: new NetlinkParseError(`netlink message at offset ${off}: nlmsg_len ${length} is below the 16-byte header`, off, { type, flags, seq, pid }) };
    }
    if (length > rest) {
      return {
        messages,
        error: new NetlinkParseError(`netlink message at offset ${off} (type ${type}, seq ${seq}): nlmsg_len ${length} exceeds the ${rest} bytes left`, off, { type, flags, seq, pid }),
      };
    }
    messages.push({ type, flags, seq, pid, payload: buf.subarray(off + NLMSG_HDRLEN, off + length) });
    off += nlAlign(length);
  }
  return { messages };
}

/** Like parseDatagram, but throws on any malformation. */
export function parseMessages(buf: Buffer): NetlinkMessage[] {
  const r = parseDatagram(buf);
  if (r.error) throw r.error;
  return r.messages;
}

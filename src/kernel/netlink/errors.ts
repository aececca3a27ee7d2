// Kernel replies that carry an errno (NLMSG_ERROR, and NLMSG_DONE of a failed dump), decoded
// with their extended ACK (NETLINK_EXT_ACK) into errors that say what failed and why.
import { getSystemErrorName } from 'node:util';
import { constants } from 'node:os';
import {
  NLMSGERR_ATTR_MISS_NEST,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLMSG_HDRLEN,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  nlAlign,
} from './constants.ts';
import { parseAttributes, readString, readU32 } from './attributes.ts';
import { NetlinkParseError, readHeader, type NetlinkMessage } from './message.ts';

export interface KernelAck {
  /** 0 for success, else a positive errno */
  errno: number;
  /** extended ACK text (NLMSGERR_ATTR_MSG) */
  extackMessage?: string;
  /** byte offset in the request of the offending attribute (NLMSGERR_ATTR_OFFS) */
  extackOffset?: number;
  /** attribute type the kernel reported missing (NLMSGERR_ATTR_MISS_TYPE) */
  missingType?: number;
  /** the echoed request header (seq/type of the request this answers) */
  request?: { type: number; flags: number; seq: number; pid: number; length: number };
}

/** Decode the payload of an NLMSG_ERROR message: {int error; nlmsghdr msg; [payload]; [TLVs]}. */
export function decodeErrorMessage(msg: NetlinkMessage): KernelAck {
  const p = msg.payload;
  if (p.length < 4) throw new NetlinkParseError(`NLMSG_ERROR: payload is ${p.length} bytes, expected at least 4`, NLMSG_HDRLEN);
  const ack: KernelAck = { errno: Math.abs(p.readInt32LE(0)) };
  if (p.length < 4 + NLMSG_HDRLEN) return ack;
  const h = readHeader(p, 4);
  ack.request = h;
  // With NLM_F_CAPPED only the request header is echoed; otherwise the whole request.
  const echoed = msg.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : nlAlign(h.length);
  const tlvStart = 4 + echoed;
  if (msg.flags & NLM_F_ACK_TLVS && tlvStart < p.length) readExtack(p, tlvStart, ack, 'NLMSG_ERROR extended ack');
  return ack;
}

/** NLMSG_DONE carries an int (the dump's error, usually 0) and, with NLM_F_ACK_TLVS, an extack. */
export function decodeDoneMessage(msg: NetlinkMessage): KernelAck {
  const p = msg.payload;
  if (p.length < 4) return { errno: 0 };
  const ack: KernelAck = { errno: Math.abs(p.readInt32LE(0)) };
  if (msg.flags & NLM_F_ACK_TLVS && p.length > 4) readExtack(p, 4, ack, 'NLMSG_DONE extended ack');
  return ack;
}

function readExtack(p: Buffer, start: number, ack: KernelAck, what: string): void {
  for (const a of parseAttributes(p, what, start)) {
    if (a.type === NLMSGERR_ATTR_MSG) ack.extackMessage = readString(a);
    else if (a.type === NLMSGERR_ATTR_OFFS) ack.extackOffset = readU32(a, `${what} offset`);
    else if (a.type === NLMSGERR_ATTR_MISS_TYPE) ack.missingType = readU32(a, `${what} missing type`);
    else if (a.type === NLMSGERR_ATTR_MISS_NEST) {
      /* the nest offset adds nothing a reader needs beyond MISS_TYPE */
    }
  }
}

const ERRNO_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(constants.errno)) if (!ERRNO_NAMES.has(n)) ERRNO_NAMES.set(n, name);

/** "EPROTONOSUPPORT" for 93 (Linux numbering, as the kernel reports it). */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  const known = ERRNO_NAMES.get(n);
  if (known) return known;
  try {
    const s = getSystemErrorName(-n);
    return s.startsWith('Unknown') ? `errno ${n}` : s;
  } catch {
    return `errno ${n}`;
  }
}

export interface NetlinkErrorContext {
  /** e.g. "xfrm NEWSA" */
  operation: string;
  /** e.g. "SA esp spi 0x00001001 2001:db8::1 -> 2001:db8::2" (never key material) */
  object?: string;
  /** where in the request the kernel's offset falls, when the caller can say */
  offsetDescription?: string;
}

/** A request the kernel refused (or that failed locally: timeout, lost reply). */
export class NetlinkError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly operation: string;
  readonly object?: string;
  readonly extackMessage?: string;
  readonly extackOffset?: number;
  readonly missingType?: number;

  constructor(ctx: NetlinkErrorContext, errno: number, ack: Omit<KernelAck, 'errno'> = {}, detail?: string) {
    const code = errnoName(errno);
    let text = `${ctx.operation}${ctx.object ? ` ${ctx.object}` : ''}: ${code} (errno ${errno})`;
    if (detail) text += `: ${detail}`;
    if (ack.extackMessage) text += `: kernel says "${ack.extackMessage}"`;
    if (ack.extackOffset !== undefined) {
      text += ` (at request byte ${ack.extackOffset}${ctx.offsetDescription ? `, ${ctx.offsetDescription}` : ''})`;
    }
    if (ack.missingType !== undefined) text += ` (missing attribute type ${ack.missingType})`;
    super(text);
    this.name = 'NetlinkError';
    this.errno = errno;
    this.code = code;
    this.operation = ctx.operation;
    if (ctx.object !== undefined) this.object = ctx.object;
    if (ack.extackMessage !== undefined) this.extackMessage = ack.extackMessage;
    if (ack.extackOffset !== undefined) this.extackOffset = ack.extackOffset;
    if (ack.missingType !== undefined) this.missingType = ack.missingType;
  }
}

export const ETIMEDOUT = 110;
export const ENOBUFS = 105;
export const EBADMSG = 74;
export const ESHUTDOWN = 108;

// Debug rendering of netlink messages. Protocol formatters (xfrm/format.ts, rtnetlink) render
// their payloads; here only the header and control messages, never raw payload bytes: a
// payload we cannot interpret might hold key material, so only its length is shown.
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN } from './constants.ts';
import { decodeDoneMessage, decodeErrorMessage, errnoName } from './errors.ts';
import type { NetlinkMessage } from './message.ts';

export type MessageFormatter = (msg: NetlinkMessage) => string;

const FLAG_NAMES: [number, string][] = [
  [0x01, 'REQUEST'],
  [0x02, 'MULTI'],
  [0x04, 'ACK'],
  [0x08, 'ECHO'],
  [0x10, 'DUMP_INTR'],
  [0x20, 'DUMP_FILTERED'],
];

export function formatFlags(flags: number): string {
  const names = FLAG_NAMES.filter(([b]) => flags & b).map(([, n]) => n);
  const rest = flags & ~0x3f;
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.join('|') || '0';
}

export function formatHeader(m: NetlinkMessage, typeName?: string): string {
  return `${typeName ?? `type ${m.type}`} flags ${formatFlags(m.flags)} seq ${m.seq} pid ${m.pid} len ${m.payload.length + 16}`;
}

/** Control messages are rendered here; others by `protocol`, or as header + payload length. */
export function formatControlMessage(m: NetlinkMessage, protocol?: MessageFormatter): string {
  try {
    switch (m.type) {
      case NLMSG_NOOP:
        return formatHeader(m, 'NLMSG_NOOP');
      case NLMSG_OVERRUN:
        return formatHeader(m, 'NLMSG_OVERRUN');
      case NLMSG_ERROR: {
        const a = decodeErrorMessage(m);
        const what = a.errno === 0 ? 'ACK' : `error ${errnoName(a.errno)} (${a.errno})`;
        const ext = a.extackMessage ? ` extack "${a.extackMessage}"` : '';
        const off = a.extackOffset !== undefined ? ` offset ${a.extackOffset}` : '';
        const req = a.request ? ` for type ${a.request.type} seq ${a.request.seq}` : '';
        return `${formatHeader(m, 'NLMSG_ERROR')}: ${what}${req}${ext}${off}`;
      }
      case NLMSG_DONE: {
        const a = decodeDoneMessage(m);
        return `${formatHeader(m, 'NLMSG_DONE')}${a.errno ? `: error ${errnoName(a.errno)}` : ''}`;
      }
      default:
        return protocol ? protocol(m) : `${formatHeader(m)} payload ${m.payload.length} bytes`;
    }
  } catch (e) {
    return `${formatHeader(m)} (malformed: ${(e as Error).message})`;
  }
}

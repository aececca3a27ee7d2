// The common MH header (RFC 6275 §6.1.1): Payload Proto | Header Len | MH Type | Reserved |
// Checksum, followed by the message data; the whole MH is a multiple of 8 octets and Header Len
// counts the 8-octet units after the first eight.
import { IPPROTO_NONE, MH_CHECKSUM_OFFSET, MH_FIXED_HEADER_LENGTH, MH_MAX_LENGTH } from './constants.ts';
import type { MhDecodeReason } from './reasons.ts';

export interface MhHeader {
  payloadProto: number;
  /** Header Len as on the wire: total octets / 8 - 1. */
  headerLen: number;
  mhType: number;
  checksum: number;
  /** Total MH length in octets. */
  length: number;
}

/**
 * Prepend the header to `body` (the octets after the Checksum field). The checksum is left 0;
 * fill it with writeMhChecksum or let the kernel do it (IPV6_CHECKSUM offset 4 on MH sockets).
 */
export function frameMh(mhType: number, body: Uint8Array): Buffer {
  if (!Number.isInteger(mhType) || mhType < 0 || mhType > 255) throw new RangeError(`MH Type ${mhType} is not an octet`);
  const length = MH_FIXED_HEADER_LENGTH + body.length;
  if (length % 8 !== 0) {
    throw new Error(`MH Type ${mhType}: length ${length} octets is not a multiple of 8 (body ${body.length} octets)`);
  }
  if (length > MH_MAX_LENGTH) throw new Error(`MH Type ${mhType}: length ${length} octets exceeds the maximum ${MH_MAX_LENGTH}`);
  const mh = Buffer.alloc(length);
  mh[0] = IPPROTO_NONE;
  mh[1] = length / 8 - 1;
  mh[2] = mhType;
  mh[3] = 0;
  mh.writeUInt16BE(0, MH_CHECKSUM_OFFSET);
  mh.set(body, MH_FIXED_HEADER_LENGTH);
  return mh;
}

export type ParseMhHeaderResult =
  | { ok: true; header: MhHeader }
  | { ok: false; reason: MhDecodeReason; detail: string };

/**
 * Check the framing of a received MH: at least 8 octets, exactly (Header Len + 1) * 8 of them,
 * Payload Proto 59. The Reserved octet is ignored, as RFC 6275 §6.1.1 requires.
 */
export function parseMhHeader(mh: Uint8Array): ParseMhHeaderResult {
  if (mh.length < 8) return { ok: false, reason: 'too-short', detail: `${mh.length} octets, an MH has at least 8` };
  const headerLen = mh[1]!;
  const length = (headerLen + 1) * 8;
  if (mh.length < length) {
    return { ok: false, reason: 'truncated', detail: `Header Len ${headerLen} announces ${length} octets, got ${mh.length}` };
  }
  if (mh.length > length) {
    return { ok: false, reason: 'trailing-data', detail: `Header Len ${headerLen} announces ${length} octets, got ${mh.length}` };
  }
  const payloadProto = mh[0]!;
  if (payloadProto !== IPPROTO_NONE) {
    return { ok: false, reason: 'bad-payload-proto', detail: `Payload Proto ${payloadProto}, expected ${IPPROTO_NONE}` };
  }
  const checksum = (mh[MH_CHECKSUM_OFFSET]! << 8) | mh[MH_CHECKSUM_OFFSET + 1]!;
  return { ok: true, header: { payloadProto, headerLen, mhType: mh[2]!, checksum, length } };
}

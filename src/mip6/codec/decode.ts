// MH octets -> message. Never throws: a malformed message gives {ok: false, reason} with a
// stable reason (a counter label) and a detail for the debug log. Everything returned is copied
// out of the input, so the receive buffer can be reused.
import { type MhAddresses, verifyMhChecksum } from './checksum.ts';
import { DEFAULT_MH_CODEC_CONFIG, type MhCodecConfig } from './config.ts';
import { MhType } from './constants.ts';
import { parseMhHeader } from './header.ts';
import { lifetimeUnitsToSeconds } from './lifetime.ts';
import type { AddressOwnershipTestChallenge, AddressOwnershipTestResponse, MhMessage } from './messages.ts';
import { decodeOptions, type IroNonceOption, type MobilityOption } from './options.ts';
import type { MhDecodeReason } from './reasons.ts';

export interface DecodeMhOptions {
  config?: MhCodecConfig;
  /**
   * Verify the Checksum against these (HoA-level) addresses. Leave it out for messages from an
   * IPPROTO_MH raw socket: the kernel has verified the checksum already.
   */
  verifyChecksum?: MhAddresses;
}

export type DecodeMhResult = { ok: true; msg: MhMessage } | { ok: false; reason: MhDecodeReason; detail: string };

type Fail = { ok: false; reason: MhDecodeReason; detail: string };

/** Octets of the fixed part (header included) of each type; Header Len must cover at least this. */
const RFC6275_MIN_LENGTH: Record<number, number> = {
  [MhType.BRR]: 8,
  [MhType.HOTI]: 16,
  [MhType.COTI]: 16,
  [MhType.HOT]: 24,
  [MhType.COT]: 24,
  [MhType.BU]: 12,
  [MhType.BA]: 12,
  [MhType.BE]: 24,
};

function copy(mh: Buffer, from: number, length: number): Buffer {
  return Buffer.from(mh.subarray(from, from + length));
}

function decodeBody(mh: Buffer, mhType: number, config: MhCodecConfig): DecodeMhResult {
  const iro = config.mhType;
  // IRO messages and unknown types need no more than the 8 octets parseMhHeader checked.
  const minimum = RFC6275_MIN_LENGTH[mhType] ?? 8;
  if (mh.length < minimum) {
    return { ok: false, reason: 'too-short-for-type', detail: `MH Type ${mhType}: ${mh.length} octets, needs at least ${minimum}` };
  }
  // Options follow the fixed part; a message with none still parses its padding here.
  const opts = (start: number): { ok: true; options: MobilityOption[] } | Fail => decodeOptions(mh, start, config);

  switch (mhType) {
    case MhType.BRR: {
      const o = opts(8);
      return o.ok ? { ok: true, msg: { kind: 'brr', options: o.options } } : o;
    }
    case MhType.HOTI:
    case MhType.COTI: {
      const o = opts(16);
      if (!o.ok) return o;
      const cookie = copy(mh, 8, 8);
      return mhType === MhType.HOTI
        ? { ok: true, msg: { kind: 'hoti', homeInitCookie: cookie, options: o.options } }
        : { ok: true, msg: { kind: 'coti', careOfInitCookie: cookie, options: o.options } };
    }
    case MhType.HOT:
    case MhType.COT: {
      const o = opts(24);
      if (!o.ok) return o;
      const index = mh.readUInt16BE(6);
      const cookie = copy(mh, 8, 8);
      const token = copy(mh, 16, 8);
      return mhType === MhType.HOT
        ? { ok: true, msg: { kind: 'hot', homeNonceIndex: index, homeInitCookie: cookie, homeKeygenToken: token, options: o.options } }
        : { ok: true, msg: { kind: 'cot', careOfNonceIndex: index, careOfInitCookie: cookie, careOfKeygenToken: token, options: o.options } };
    }
    case MhType.BU: {
      const o = opts(12);
      if (!o.ok) return o;
      const flags = mh.readUInt16BE(8);
      return {
        ok: true,
        msg: {
          kind: 'bu',
          sequence: mh.readUInt16BE(6),
          ack: (flags & 0x8000) !== 0,
          home: (flags & 0x4000) !== 0,
          linkLocal: (flags & 0x2000) !== 0,
          keyManagement: (flags & 0x1000) !== 0,
          otherFlags: flags & 0x0fff,
          lifetime: lifetimeUnitsToSeconds(mh.readUInt16BE(10)),
          options: o.options,
        },
      };
    }
    case MhType.BA: {
      const o = opts(12);
      if (!o.ok) return o;
      const flags = mh[7]!;
      return {
        ok: true,
        msg: {
          kind: 'ba',
          status: mh[6]!,
          keyManagement: (flags & 0x80) !== 0,
          otherFlags: flags & 0x7f,
          sequence: mh.readUInt16BE(8),
          lifetime: lifetimeUnitsToSeconds(mh.readUInt16BE(10)),
          options: o.options,
        },
      };
    }
    case MhType.BE: {
      const o = opts(24);
      if (!o.ok) return o;
      return { ok: true, msg: { kind: 'be', status: mh[6]!, homeAddress: copy(mh, 8, 16), options: o.options } };
    }
  }

  if (mhType === iro.aoto || mhType === iro.aots) {
    // Neither carries options (IRO §4.4.1, §4.4.4); any present are checked for framing and dropped.
    const o = opts(8);
    if (!o.ok) return o;
    if (mhType === iro.aoto) return { ok: true, msg: { kind: 'aoto' } };
    return { ok: true, msg: { kind: 'aots', code: mh[6]! >> 4 } };
  }
  if (mhType === iro.aotc || mhType === iro.aotr) {
    const o = opts(8);
    if (!o.ok) return o;
    const kind = mhType === iro.aotc ? 'aotc' : 'aotr';
    const nonces = o.options.filter((x): x is IroNonceOption => x.kind === 'nonce');
    if (nonces.length === 0) return { ok: false, reason: 'missing-nonce', detail: `${kind.toUpperCase()} without a Nonce option` };
    if (nonces.length > 1) {
      return { ok: false, reason: 'duplicate-nonce', detail: `${kind.toUpperCase()} with ${nonces.length} Nonce options` };
    }
    const nonceAfter = o.options.findIndex((x) => x.kind === 'nonce');
    const options = o.options.filter((x) => x.kind !== 'nonce');
    const msg: AddressOwnershipTestChallenge | AddressOwnershipTestResponse = { kind, nonce: nonces[0]!.nonce, options };
    if (nonceAfter > 0) msg.nonceAfter = nonceAfter;
    return { ok: true, msg };
  }
  return { ok: true, msg: { kind: 'unknown', mhType, data: copy(mh, 6, mh.length - 6) } };
}

/** Decode one MH (exactly the MH octets, as a raw IPPROTO_MH socket delivers them). */
export function decodeMh(bytes: Uint8Array, opts: DecodeMhOptions = {}): DecodeMhResult {
  const addrs = opts.verifyChecksum;
  // A wrong-sized address is the caller's bug, not a malformed packet: say so loudly.
  if (addrs && (addrs.src?.length !== 16 || addrs.dst?.length !== 16)) {
    throw new Error('decodeMh: verifyChecksum needs 16-byte src and dst addresses');
  }
  try {
    const mh = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const header = parseMhHeader(mh);
    if (!header.ok) return header;
    if (opts.verifyChecksum && !verifyMhChecksum(mh, opts.verifyChecksum)) {
      return { ok: false, reason: 'bad-checksum', detail: `checksum 0x${header.header.checksum.toString(16)} does not verify` };
    }
    return decodeBody(mh, header.header.mhType, opts.config ?? DEFAULT_MH_CODEC_CONFIG);
  } catch (err) {
    return { ok: false, reason: 'internal-error', detail: `MH decoder bug: ${(err as Error).message}` };
  }
}

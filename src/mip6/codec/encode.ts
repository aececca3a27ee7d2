// Message -> MH octets. Invalid input (a field out of range, a wrong-sized nonce, a lifetime that
// does not fit) is a caller bug and throws an Error naming the message and the field.
import { type MhAddresses, writeMhChecksum } from './checksum.ts';
import { DEFAULT_MH_CODEC_CONFIG, type MhCodecConfig } from './config.ts';
import { COOKIE_LENGTH, IRO_NONCE_LENGTH, KEYGEN_TOKEN_LENGTH, MhType } from './constants.ts';
import { frameMh } from './header.ts';
import { secondsToLifetimeUnits } from './lifetime.ts';
import type { MhMessageInput } from './messages.ts';
import { encodeOptions, type MobilityOption } from './options.ts';

export interface EncodeMhOptions {
  config?: MhCodecConfig;
  /** Fill the Checksum with these (HoA-level) addresses; without them it stays 0 for the kernel. */
  checksum?: MhAddresses;
}

function uint(what: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what} must be an integer 0-${max}, got ${String(value)}`);
  }
  return value;
}

function bytes(what: string, value: unknown, length: number): Buffer {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
    throw new Error(`${what} must be ${length} bytes, got ${got}`);
  }
  return Buffer.from(value);
}

/** Fixed part (after the Checksum) + options laid out from MH offset 6 + fixed.length. */
function withOptions(fixed: Buffer, options: readonly MobilityOption[] | undefined, config: MhCodecConfig): Buffer {
  return Buffer.concat([fixed, encodeOptions(options ?? [], 6 + fixed.length, config)]);
}

function body(msg: MhMessageInput, config: MhCodecConfig): { mhType: number; body: Buffer } {
  const name = msg.kind.toUpperCase();
  switch (msg.kind) {
    case 'brr':
      return { mhType: MhType.BRR, body: withOptions(Buffer.alloc(2), msg.options, config) };
    case 'hoti':
    case 'coti': {
      const cookie = msg.kind === 'hoti' ? msg.homeInitCookie : msg.careOfInitCookie;
      const fixed = Buffer.concat([Buffer.alloc(2), bytes(`${name} init cookie`, cookie, COOKIE_LENGTH)]);
      return { mhType: msg.kind === 'hoti' ? MhType.HOTI : MhType.COTI, body: withOptions(fixed, msg.options, config) };
    }
    case 'hot':
    case 'cot': {
      const [index, cookie, token] =
        msg.kind === 'hot'
          ? [msg.homeNonceIndex, msg.homeInitCookie, msg.homeKeygenToken]
          : [msg.careOfNonceIndex, msg.careOfInitCookie, msg.careOfKeygenToken];
      const head = Buffer.alloc(2);
      head.writeUInt16BE(uint(`${name} nonce index`, index, 0xffff));
      const fixed = Buffer.concat([
        head,
        bytes(`${name} init cookie`, cookie, COOKIE_LENGTH),
        bytes(`${name} keygen token`, token, KEYGEN_TOKEN_LENGTH),
      ]);
      return { mhType: msg.kind === 'hot' ? MhType.HOT : MhType.COT, body: withOptions(fixed, msg.options, config) };
    }
    case 'bu': {
      const fixed = Buffer.alloc(6);
      fixed.writeUInt16BE(uint('BU sequence', msg.sequence, 0xffff), 0);
      const flags =
        (msg.ack ? 0x8000 : 0) |
        (msg.home ? 0x4000 : 0) |
        (msg.linkLocal ? 0x2000 : 0) |
        (msg.keyManagement ? 0x1000 : 0) |
        uint('BU otherFlags', msg.otherFlags ?? 0, 0xfff);
      fixed.writeUInt16BE(flags, 2);
      fixed.writeUInt16BE(secondsToLifetimeUnits(msg.lifetime, 'BU lifetime'), 4);
      return { mhType: MhType.BU, body: withOptions(fixed, msg.options, config) };
    }
    case 'ba': {
      const fixed = Buffer.alloc(6);
      fixed[0] = uint('BA status', msg.status, 0xff);
      fixed[1] = (msg.keyManagement ? 0x80 : 0) | uint('BA otherFlags', msg.otherFlags ?? 0, 0x7f);
      fixed.writeUInt16BE(uint('BA sequence', msg.sequence, 0xffff), 2);
      fixed.writeUInt16BE(secondsToLifetimeUnits(msg.lifetime, 'BA lifetime'), 4);
      return { mhType: MhType.BA, body: withOptions(fixed, msg.options, config) };
    }
    case 'be': {
      const fixed = Buffer.concat([
        Buffer.from([uint('BE status', msg.status, 0xff), 0]),
        bytes('BE home address', msg.homeAddress, 16),
      ]);
      return { mhType: MhType.BE, body: withOptions(fixed, msg.options, config) };
    }
    case 'aoto':
      // IRO §4.4.1: Reserved only, no options.
      return { mhType: config.mhType.aoto, body: Buffer.alloc(2) };
    case 'aotc':
    case 'aotr': {
      if ((msg.options ?? []).some((o) => o.kind === 'nonce')) {
        throw new Error(`${name}: pass the nonce in the "nonce" field, not as an option`);
      }
      // The Nonce goes first unless told otherwise: with 6 octets of PadN it lands at offset 14
      // (8n+6), 24 octets in all (A05).
      const others = msg.options ?? [];
      const at = uint(`${name} nonceAfter`, msg.nonceAfter ?? 0, others.length);
      const options: MobilityOption[] = [
        ...others.slice(0, at),
        { kind: 'nonce', nonce: bytes(`${name} nonce`, msg.nonce, IRO_NONCE_LENGTH) },
        ...others.slice(at),
      ];
      const mhType = msg.kind === 'aotc' ? config.mhType.aotc : config.mhType.aotr;
      return { mhType, body: withOptions(Buffer.alloc(2), options, config) };
    }
    case 'aots': {
      // IRO §4.4.4: Code in the high 4 bits of message octet 6, 12 reserved bits.
      const fixed = Buffer.alloc(2);
      fixed.writeUInt16BE(uint('AOTS code', msg.code, 0xf) << 12);
      return { mhType: config.mhType.aots, body: fixed };
    }
    case 'unknown': {
      const t = uint('MH Type', msg.mhType, 0xff);
      const iro = Object.values(config.mhType);
      if (t <= MhType.BE || iro.includes(t)) {
        throw new Error(`MH Type ${t} is a type this codec knows; encode it by its own kind, not as "unknown"`);
      }
      if (!(msg.data instanceof Uint8Array)) throw new Error(`MH Type ${t}: data must be bytes`);
      return { mhType: t, body: Buffer.from(msg.data) };
    }
    default:
      throw new Error(`encodeMh: unknown message kind "${(msg as { kind: unknown }).kind}"`);
  }
}

/** Encode one MH message; the result is a multiple of 8 octets (A01). */
export function encodeMh(msg: MhMessageInput, opts: EncodeMhOptions = {}): Buffer {
  const config = opts.config ?? DEFAULT_MH_CODEC_CONFIG;
  const { mhType, body: data } = body(msg, config);
  const mh = frameMh(mhType, data);
  return opts.checksum ? writeMhChecksum(mh, opts.checksum) : mh;
}

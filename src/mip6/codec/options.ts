// Mobility options (RFC 6275 §6.2; IRO Nonce, IRO §4.3.1): TLVs after the fixed part of a
// message. Alignment is relative to the start of the MH. Pad1/PadN are framing only: the
// encoder inserts them, the decoder skips them, and they never appear in the decoded list.
import {
  BINDING_AUTHORIZATION_DATA_LENGTH,
  IRO_NONCE_LENGTH,
  MobilityOptionType,
} from './constants.ts';
import type { MhCodecConfig } from './config.ts';
import { lifetimeUnitsToSeconds, secondsToLifetimeUnits } from './lifetime.ts';
import type { MhDecodeReason } from './reasons.ts';

/** RFC 6275 §6.2.4: Refresh Interval, in seconds here (4-second units on the wire). */
export interface BindingRefreshAdviceOption {
  kind: 'bindingRefreshAdvice';
  refreshInterval: number;
}
/** RFC 6275 §6.2.5. */
export interface AlternateCoaOption {
  kind: 'alternateCoa';
  address: Buffer;
}
/** RFC 6275 §6.2.6 (return routability; parsed for diagnostics, DIGEST OP-29). */
export interface NonceIndicesOption {
  kind: 'nonceIndices';
  homeNonceIndex: number;
  careOfNonceIndex: number;
}
/** RFC 6275 §6.2.7: the 96-bit authenticator of return routability. */
export interface BindingAuthorizationDataOption {
  kind: 'bindingAuthorizationData';
  authenticator: Buffer;
}
/** IRO §4.3.1: 64-bit nonce, type configurable (default 88). Not RFC 6275's Nonce Indices. */
export interface IroNonceOption {
  kind: 'nonce';
  nonce: Buffer;
}
/** Any other option type: kept so it can be logged, and skipped by the protocol (A09). */
export interface UnknownMobilityOption {
  kind: 'unknown';
  type: number;
  data: Buffer;
}

export type MobilityOption =
  | BindingRefreshAdviceOption
  | AlternateCoaOption
  | NonceIndicesOption
  | BindingAuthorizationDataOption
  | IroNonceOption
  | UnknownMobilityOption;

/** Option placement rule "xn+y" measured from the start of the MH, and its fixed data length. */
interface OptionShape {
  x: number;
  y: number;
  length: number;
  name: string;
}

const SHAPES: Record<Exclude<MobilityOption['kind'], 'unknown'>, OptionShape> = {
  bindingRefreshAdvice: { x: 2, y: 0, length: 2, name: 'Binding Refresh Advice' },
  alternateCoa: { x: 8, y: 6, length: 16, name: 'Alternate Care-of Address' },
  nonceIndices: { x: 2, y: 0, length: 4, name: 'Nonce Indices' },
  bindingAuthorizationData: { x: 8, y: 2, length: BINDING_AUTHORIZATION_DATA_LENGTH, name: 'Binding Authorization Data' },
  nonce: { x: 8, y: 6, length: IRO_NONCE_LENGTH, name: 'IRO Nonce' },
};

const RFC6275_KIND_BY_TYPE = new Map<number, Exclude<MobilityOption['kind'], 'unknown' | 'nonce'>>([
  [MobilityOptionType.BINDING_REFRESH_ADVICE, 'bindingRefreshAdvice'],
  [MobilityOptionType.ALTERNATE_COA, 'alternateCoa'],
  [MobilityOptionType.NONCE_INDICES, 'nonceIndices'],
  [MobilityOptionType.BINDING_AUTHORIZATION_DATA, 'bindingAuthorizationData'],
]);

/** Pad1 for one octet, PadN for more (RFC 6275 §6.2.2, §6.2.3); zero octets is no padding. */
export function padding(n: number): Buffer {
  if (n === 0) return Buffer.alloc(0);
  if (n === 1) return Buffer.from([MobilityOptionType.PAD1]);
  const pad = Buffer.alloc(n);
  pad[0] = MobilityOptionType.PADN;
  pad[1] = n - 2;
  return pad;
}

function fixedBytes(what: string, value: unknown, length: number): Buffer {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
    throw new Error(`${what} must be ${length} bytes, got ${got}`);
  }
  return Buffer.from(value);
}

function uint16(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`${what} must be an integer 0-65535, got ${String(value)}`);
  }
  return value;
}

function typeOf(option: MobilityOption, config: MhCodecConfig): number {
  switch (option.kind) {
    case 'nonce':
      return config.nonceOptType;
    case 'unknown': {
      const t = option.type;
      if (!Number.isInteger(t) || t < 0 || t > 255) throw new RangeError(`unknown mobility option: type ${t} is not an octet`);
      // Re-encoding must not turn an opaque option into padding or a known one.
      if (t <= MobilityOptionType.BINDING_AUTHORIZATION_DATA || t === config.nonceOptType) {
        throw new Error(`unknown mobility option: type ${t} is a known option type; use its own kind`);
      }
      return t;
    }
    default:
      for (const [type, kind] of RFC6275_KIND_BY_TYPE) if (kind === option.kind) return type;
      throw new Error(`mobility option: unknown kind "${(option as { kind: unknown }).kind}"`);
  }
}

function optionData(option: MobilityOption): Buffer {
  switch (option.kind) {
    case 'bindingRefreshAdvice': {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(secondsToLifetimeUnits(option.refreshInterval, 'Binding Refresh Advice interval'));
      return b;
    }
    case 'alternateCoa':
      return fixedBytes('Alternate Care-of Address', option.address, 16);
    case 'nonceIndices': {
      const b = Buffer.alloc(4);
      b.writeUInt16BE(uint16('Home Nonce Index', option.homeNonceIndex), 0);
      b.writeUInt16BE(uint16('Care-of Nonce Index', option.careOfNonceIndex), 2);
      return b;
    }
    case 'bindingAuthorizationData':
      return fixedBytes('Binding Authorization Data authenticator', option.authenticator, BINDING_AUTHORIZATION_DATA_LENGTH);
    case 'nonce':
      return fixedBytes('IRO Nonce', option.nonce, IRO_NONCE_LENGTH);
    case 'unknown': {
      if (!(option.data instanceof Uint8Array) || option.data.length > 255) {
        throw new Error(`unknown mobility option type ${option.type}: data must be at most 255 bytes`);
      }
      return Buffer.from(option.data);
    }
  }
}

/**
 * Lay out `options` starting at MH offset `start`: each option is preceded by the least padding
 * that puts its type octet at its alignment, and the result is padded so that start + length is
 * a multiple of 8. Throws on an invalid option (wrong size, out of range, ambiguous type).
 */
export function encodeOptions(options: readonly MobilityOption[], start: number, config: MhCodecConfig): Buffer {
  const parts: Buffer[] = [];
  let off = start;
  for (const option of options) {
    const type = typeOf(option, config);
    const data = optionData(option);
    if (option.kind !== 'unknown') {
      const { x, y } = SHAPES[option.kind];
      const pad = (((y - off) % x) + x) % x;
      parts.push(padding(pad));
      off += pad;
    }
    parts.push(Buffer.from([type, data.length]), data);
    off += 2 + data.length;
  }
  parts.push(padding((8 - (off % 8)) % 8));
  return Buffer.concat(parts);
}

export type DecodeOptionsResult =
  | { ok: true; options: MobilityOption[] }
  | { ok: false; reason: MhDecodeReason; detail: string };

function fail(reason: MhDecodeReason, detail: string): DecodeOptionsResult {
  return { ok: false, reason, detail };
}

/**
 * Parse the options in mh[start, mh.length). Unknown types are kept as 'unknown' and otherwise
 * skipped (RFC 6275 §6.2.1); known types must have their exact Length and alignment.
 */
export function decodeOptions(mh: Buffer, start: number, config: MhCodecConfig): DecodeOptionsResult {
  const options: MobilityOption[] = [];
  const end = mh.length;
  let off = start;
  while (off < end) {
    const type = mh[off]!;
    if (type === MobilityOptionType.PAD1) {
      off += 1;
      continue;
    }
    if (off + 2 > end) return fail('option-truncated', `option type ${type} at offset ${off}: no room for its Length`);
    const length = mh[off + 1]!;
    const dataStart = off + 2;
    if (dataStart + length > end) {
      return fail('option-truncated', `option type ${type} at offset ${off}: Length ${length} runs past the message end (${end})`);
    }
    const data = mh.subarray(dataStart, dataStart + length);
    const kind = type === config.nonceOptType ? 'nonce' : RFC6275_KIND_BY_TYPE.get(type);
    if (type === MobilityOptionType.PADN) {
      // Padding contents are ignored on reception.
    } else if (kind === undefined) {
      options.push({ kind: 'unknown', type, data: Buffer.from(data) });
    } else {
      const shape = SHAPES[kind];
      if (length !== shape.length) {
        return fail('bad-option-length', `${shape.name} option at offset ${off}: Length ${length}, expected ${shape.length}`);
      }
      if (off % shape.x !== shape.y) {
        return fail('misaligned-option', `${shape.name} option at offset ${off}: not at ${shape.x}n+${shape.y}`);
      }
      options.push(decodeKnown(kind, data));
    }
    off = dataStart + length;
  }
  return { ok: true, options };
}

function decodeKnown(kind: Exclude<MobilityOption['kind'], 'unknown'>, data: Buffer): MobilityOption {
  switch (kind) {
    case 'bindingRefreshAdvice':
      return { kind, refreshInterval: lifetimeUnitsToSeconds(data.readUInt16BE(0)) };
    case 'alternateCoa':
      return { kind, address: Buffer.from(data) };
    case 'nonceIndices':
      return { kind, homeNonceIndex: data.readUInt16BE(0), careOfNonceIndex: data.readUInt16BE(2) };
    case 'bindingAuthorizationData':
      return { kind, authenticator: Buffer.from(data) };
    case 'nonce':
      return { kind, nonce: Buffer.from(data) };
  }
}

/** The first option of a kind, typed (e.g. findOption(bu.options, 'alternateCoa')?.address). */
export function findOption<K extends MobilityOption['kind']>(
  options: readonly MobilityOption[],
  kind: K,
): Extract<MobilityOption, { kind: K }> | undefined {
  return options.find((o): o is Extract<MobilityOption, { kind: K }> => o.kind === kind);
}

// The IRO draft leaves its four MH types and its option type to IANA and gives test values
// (IRO §9): they are configuration, identical on every node of a deployment (DIGEST OP-1, OP-2).
import { MhType, MobilityOptionType } from './constants.ts';

export interface IroMhTypes {
  aoto: number;
  aotc: number;
  aotr: number;
  aots: number;
}

export interface MhCodecConfig {
  readonly mhType: Readonly<IroMhTypes>;
  readonly nonceOptType: number;
}

export interface MhCodecConfigInput {
  mhType?: Partial<IroMhTypes>;
  nonceOptType?: number;
}

export const DEFAULT_MH_CODEC_CONFIG: MhCodecConfig = Object.freeze({
  mhType: Object.freeze({ aoto: 30, aotc: 31, aotr: 32, aots: 33 }),
  nonceOptType: 88,
});

/** MH types registered at IANA that we know of (DIGEST §1.4.5); used only for warnings. */
const IANA_MH_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'Binding Refresh Request'],
  [1, 'Home Test Init'],
  [2, 'Care-of Test Init'],
  [3, 'Home Test'],
  [4, 'Care-of Test'],
  [5, 'Binding Update'],
  [6, 'Binding Acknowledgement'],
  [7, 'Binding Error'],
  [8, 'Fast Binding Update'],
  [9, 'Fast Binding Acknowledgment'],
  [10, 'Fast Neighbor Advertisement'],
  [11, 'Experimental Mobility Header'],
  [12, 'Home Agent Switch'],
  [13, 'Heartbeat'],
  [14, 'Handover Initiate'],
  [15, 'Handover Acknowledge'],
  [16, 'Binding Revocation'],
]);

function checkOctet(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
    throw new Error(`MH codec config: ${name} must be an integer 0-255, got ${String(v)}`);
  }
  return v;
}

/**
 * Merge `input` over the defaults and validate: every code is an octet, the four IRO MH types
 * are distinct and none is an RFC 6275 type (0-7) this codec decodes itself, and the Nonce option
 * type is not an RFC 6275 option (0-5); otherwise one wire code would mean two things.
 */
export function makeMhCodecConfig(input: MhCodecConfigInput = {}): MhCodecConfig {
  const d = DEFAULT_MH_CODEC_CONFIG;
  const mhType: IroMhTypes = {
    aoto: checkOctet('mhType.aoto', input.mhType?.aoto ?? d.mhType.aoto),
    aotc: checkOctet('mhType.aotc', input.mhType?.aotc ?? d.mhType.aotc),
    aotr: checkOctet('mhType.aotr', input.mhType?.aotr ?? d.mhType.aotr),
    aots: checkOctet('mhType.aots', input.mhType?.aots ?? d.mhType.aots),
  };
  const nonceOptType = checkOctet('nonceOptType', input.nonceOptType ?? d.nonceOptType);
  const seen = new Map<number, string>();
  for (const [name, value] of Object.entries(mhType)) {
    const other = seen.get(value);
    if (other !== undefined) {
      throw new Error(`MH codec config: mhType.${name} and mhType.${other} are both ${value}; the four IRO types must differ`);
    }
    seen.set(value, name);
    if (value <= MhType.BE) {
      throw new Error(`MH codec config: mhType.${name}=${value} is the RFC 6275 type "${IANA_MH_TYPES.get(value)}"`);
    }
  }
  if (nonceOptType <= MobilityOptionType.BINDING_AUTHORIZATION_DATA) {
    throw new Error(`MH codec config: nonceOptType=${nonceOptType} is an RFC 6275 mobility option type (0-5)`);
  }
  return Object.freeze({ mhType: Object.freeze(mhType), nonceOptType });
}

/**
 * Warnings for IRO MH types that collide with an IANA-assigned type beyond RFC 6275 (OP-1):
 * legal for a closed deployment, but such a peer would misread the messages.
 */
export function ianaMhTypeCollisions(config: MhCodecConfig): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(config.mhType)) {
    const iana = IANA_MH_TYPES.get(value);
    if (iana !== undefined) out.push(`mhType.${name}=${value} is assigned by IANA to "${iana}"`);
  }
  return out;
}

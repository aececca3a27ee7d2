// Static keying in the configuration: SAs, policies that use them by name, and the
// [HAIPSEC] §4.2 shortcut. Key material is inline hex or a key file; the schema checks only the
// shape, and never echoes a key (messages say what is expected, never what was found).
import { z } from 'zod';
import { AEAD_ALGS, AUTH_ALGS, ENC_ALGS } from './algorithms.ts';
import { addressRef, duration, octet, prefixRef, protoSpec, saName, uint32 } from './schema-primitives.ts';

const HEX_KEY = /^(0[xX])?([0-9a-fA-F]{2})+$/;

/** Inline key: a quoted hex string. A bare number would have been mangled by YAML, so it is refused. */
const hexKey = z
  .string({ error: 'expected the key as a quoted string of hex digits (the value is not shown)' })
  .refine((s) => HEX_KEY.test(s), { error: 'expected an even number of hex digits, optionally after 0x (the value is not shown)' });

const keyFile = z.string({ error: 'expected the path of a key file' }).min(1, { error: 'expected the path of a key file' });

export const authBlock = z.strictObject({
  alg: z.enum(AUTH_ALGS),
  key: hexKey.optional(),
  keyFile: keyFile.optional(),
  /** ICV length in bits; default: the RFC value for the algorithm */
  truncBits: z.number().int().optional(),
});

export const encBlock = z.strictObject({
  alg: z.enum(ENC_ALGS),
  key: hexKey.optional(),
  keyFile: keyFile.optional(),
});

export const aeadBlock = z.strictObject({
  alg: z.enum(AEAD_ALGS),
  key: hexKey.optional(),
  keyFile: keyFile.optional(),
  icvBits: z.union([z.literal(64), z.literal(96), z.literal(128)], { error: 'expected an ICV length of 64, 96 or 128 bits' }).default(128),
});

export const spi = uint32.refine((v) => v >= 256, { error: 'expected an SPI of 256-4294967295 (0 is invalid and 1-255 are reserved, RFC 4303 §2.1)' });

const lifetime = z.strictObject({ soft: duration.optional(), hard: duration.optional() });

export const saSchema = z.strictObject({
  name: saName,
  proto: z.enum(['esp', 'ah']).default('esp'),
  spi,
  src: addressRef,
  dst: addressRef,
  mode: z.enum(['transport', 'tunnel']).default('transport'),
  /** classification hint for the IRO engine (StaticClass); default from selector.proto */
  class: z.enum(['mh', 'data', 'mpd']).optional(),
  selector: z
    .strictObject({
      src: prefixRef.optional(),
      dst: prefixRef.optional(),
      proto: protoSpec.default(0),
      type: octet.optional(),
    })
    .prefault({}),
  auth: authBlock.optional(),
  enc: encBlock.optional(),
  aead: aeadBlock.optional(),
  lifetime: lifetime.optional(),
  /** normally assigned from iro.ownership; give one only to match another system's */
  reqid: uint32.optional(),
});

export const policySchema = z.strictObject({
  dir: z.enum(['in', 'out', 'fwd']),
  src: prefixRef,
  dst: prefixRef,
  proto: protoSpec.default(0),
  type: octet.optional(),
  /** the name of the SA used as the policy's template */
  sa: saName,
  /** lower is consulted first (Linux XFRM); overlapping policies need different priorities */
  priority: uint32.default(1000),
});

export const ipsecSchema = z.strictObject({
  sas: z.array(saSchema).default([]),
  policies: z.array(policySchema).default([]),
});

/** One direction of a [HAIPSEC] pair: everything but the addresses, which the profile knows. */
export const profileSaSchema = z.strictObject({
  spi,
  auth: authBlock.optional(),
  enc: encBlock.optional(),
  aead: aeadBlock.optional(),
  lifetime: lifetime.optional(),
  reqid: uint32.optional(),
});

/** Named by where the packets go, so the MN and the HA can share the very same block. */
export const profilePairSchema = z.strictObject({ toHa: profileSaSchema, toMn: profileSaSchema });

export const PROFILE_PAIRS = ['bu', 'rr', 'mpd', 'payload'] as const;
export type ProfilePairName = (typeof PROFILE_PAIRS)[number];

export const haIpsecProfileSchema = z.strictObject({
  /** prefix of the generated names: <name>.SA1 ... <name>.SA8 */
  name: saName.default('ha-ipsec'),
  /** MN: default its (first) home address. HA: required, one of ha.mobileNodes */
  homeAddress: addressRef.optional(),
  /** default: mn.homeAgent on an MN, ha.address on an HA */
  homeAgent: addressRef.optional(),
  /** SA1 (MN->HA) / SA2 (HA->MN): BU/BA, ESP transport, MH (§4.2.1; HAIPSEC §3.1 MUST) */
  bu: profilePairSchema,
  /** SA3 / SA4: return routability, ESP tunnel, MH from/to the HoA (§4.2.2; optional, OP-29) */
  rr: profilePairSchema.optional(),
  /** SA5 / SA6: mobile prefix discovery, ESP transport, ICMPv6 (§4.2.3; SHOULD) */
  mpd: profilePairSchema.optional(),
  /** SA7 / SA8: tunnelled payload, ESP tunnel, any protocol (§4.2.4; MAY) */
  payload: profilePairSchema.optional(),
  /**
   * Design A (DESIGN decision 7, OP-27): ESP transport protecting the MN-HA ip6tnl (IPv6-in-IPv6,
   * proto 41) between the MN's care-of address and the HA. The MN end follows the CoA at run
   * time, so these SAs are pushed by the daemon, not listed with the static ones.
   */
  tunnel: profilePairSchema.optional(),
  /** XFRM priorities: §4.2.1/§4.2.3 entries precede §4.2.2, which precede §4.2.4 */
  priorities: z
    .strictObject({ signalling: uint32.default(100), rr: uint32.default(2000), payload: uint32.default(3000) })
    .prefault({}),
});

/** One profile, or a list (an HA serving several mobile nodes). */
export const haIpsecProfilesSchema = z.preprocess(
  (v) => (v !== undefined && v !== null && !Array.isArray(v) ? [v] : v),
  z.array(haIpsecProfileSchema, { error: 'expected a profile (a mapping) or a list of profiles' }),
);

// Wire constants of the Mobility Header (RFC 6275 §6.1, §6.2). The IRO codes are not here:
// they are configurable (see config.ts) because the draft only gives test values.
export { IPPROTO_MH } from '../../kernel/constants.ts';

/** Payload Proto of every MH we send, and the only one we accept (RFC 6275 §6.1.1, §9.2). */
export const IPPROTO_NONE = 59;

/** Offset of the Checksum field in the MH; also the IPV6_CHECKSUM offset of an MH raw socket. */
export const MH_CHECKSUM_OFFSET = 4;
/** Payload Proto, Header Len, MH Type, Reserved, Checksum. */
export const MH_FIXED_HEADER_LENGTH = 6;
/** Header Len is 8 bits counting 8-octet units after the first 8 octets. */
export const MH_MAX_LENGTH = (0xff + 1) * 8;

/** MH Types defined by RFC 6275 §6.1.2–§6.1.9. */
export const MhType = {
  BRR: 0,
  HOTI: 1,
  COTI: 2,
  HOT: 3,
  COT: 4,
  BU: 5,
  BA: 6,
  BE: 7,
} as const;

/** Mobility option types defined by RFC 6275 §6.2. */
export const MobilityOptionType = {
  PAD1: 0,
  PADN: 1,
  BINDING_REFRESH_ADVICE: 2,
  ALTERNATE_COA: 3,
  NONCE_INDICES: 4,
  BINDING_AUTHORIZATION_DATA: 5,
} as const;

/** Lifetimes (BU, BA, Binding Refresh Advice) travel in 16-bit units of 4 seconds. */
export const LIFETIME_UNIT_SECONDS = 4;
export const MAX_LIFETIME_SECONDS = 0xffff * LIFETIME_UNIT_SECONDS; // 262140

/** The IRO Nonce option carries a 64-bit value (IRO §4.3.1). */
export const IRO_NONCE_LENGTH = 8;
/** HoTI/CoTI/HoT/CoT cookies and keygen tokens are 64 bits (RFC 6275 §6.1.3–§6.1.6). */
export const COOKIE_LENGTH = 8;
export const KEYGEN_TOKEN_LENGTH = 8;
/** RFC 6275 §5.2.6: the authenticator is the first 96 bits of an HMAC_SHA1. */
export const BINDING_AUTHORIZATION_DATA_LENGTH = 12;

// The decoded form of every Mobility Header message this codec knows. Times are in seconds,
// addresses and opaque values are Buffers; padding and reserved fields do not appear (they are
// zero on emission and ignored on reception), except the BU/BA flag bits defined by other RFCs,
// which are kept as `otherFlags` so a diagnostic dump shows them.
import type { MobilityOption } from './options.ts';

/** RFC 6275 §6.1.2. */
export interface BindingRefreshRequest {
  kind: 'brr';
  options: MobilityOption[];
}

/** RFC 6275 §6.1.3 (HoTI) and §6.1.4 (CoTI): the 64-bit init cookie. */
export interface HomeTestInit {
  kind: 'hoti';
  homeInitCookie: Buffer;
  options: MobilityOption[];
}
export interface CareOfTestInit {
  kind: 'coti';
  careOfInitCookie: Buffer;
  options: MobilityOption[];
}

/** RFC 6275 §6.1.5 (HoT) and §6.1.6 (CoT). */
export interface HomeTest {
  kind: 'hot';
  homeNonceIndex: number;
  homeInitCookie: Buffer;
  homeKeygenToken: Buffer;
  options: MobilityOption[];
}
export interface CareOfTest {
  kind: 'cot';
  careOfNonceIndex: number;
  careOfInitCookie: Buffer;
  careOfKeygenToken: Buffer;
  options: MobilityOption[];
}

/** RFC 6275 §6.1.7. */
export interface BindingUpdate {
  kind: 'bu';
  sequence: number;
  /** A: the sender requests a Binding Acknowledgement. */
  ack: boolean;
  /** H: home registration. */
  home: boolean;
  /** L: link-local address compatibility. */
  linkLocal: boolean;
  /** K: key management mobility capability. */
  keyManagement: boolean;
  /** The 12 bits after K (M, R, P... of later RFCs, then reserved), as a number 0-0xfff. */
  otherFlags: number;
  /** Seconds, a multiple of 4 once decoded; 0 deletes the binding. */
  lifetime: number;
  options: MobilityOption[];
}

/** RFC 6275 §6.1.8. Status < 128: accepted (see isBindingAccepted). */
export interface BindingAck {
  kind: 'ba';
  status: number;
  /** K: key management mobility capability. */
  keyManagement: boolean;
  /** The 7 bits after K (R, P... of later RFCs, then reserved), as a number 0-0x7f. */
  otherFlags: number;
  sequence: number;
  /** Seconds granted, a multiple of 4 once decoded. */
  lifetime: number;
  options: MobilityOption[];
}

/** RFC 6275 §6.1.9. */
export interface BindingError {
  kind: 'be';
  status: number;
  homeAddress: Buffer;
  options: MobilityOption[];
}

/** IRO §4.4.1: 8 octets, no options; its Reserved field is ignored on reception. */
export interface AddressOwnershipTestOffer {
  kind: 'aoto';
}

/**
 * IRO §4.4.2 (AOTC) and §4.4.3 (AOTR): the mandatory Nonce option is lifted into `nonce`;
 * `options` holds any other options (never a second Nonce). `nonceAfter` is how many of those
 * options come before the Nonce on the wire; it is absent when the Nonce is first (our own
 * layout). Keeping it lets a received message re-encode in its original order, hence never
 * longer than it arrived.
 */
export interface AddressOwnershipTestChallenge {
  kind: 'aotc';
  nonce: Buffer;
  options: MobilityOption[];
  nonceAfter?: number;
}
export interface AddressOwnershipTestResponse {
  kind: 'aotr';
  nonce: Buffer;
  options: MobilityOption[];
  nonceAfter?: number;
}

/** IRO §4.4.4: Code is 4 bits; see aotsStatus() for its meaning (2-15 are 'unknown'). */
export interface AddressOwnershipTestStatus {
  kind: 'aots';
  code: number;
}

/** Any MH type this codec does not know: the socket loop counts it (and may answer a BE). */
export interface UnknownMhMessage {
  kind: 'unknown';
  mhType: number;
  /** Everything after the Checksum field. */
  data: Buffer;
}

export type MhMessage =
  | BindingRefreshRequest
  | HomeTestInit
  | CareOfTestInit
  | HomeTest
  | CareOfTest
  | BindingUpdate
  | BindingAck
  | BindingError
  | AddressOwnershipTestOffer
  | AddressOwnershipTestChallenge
  | AddressOwnershipTestResponse
  | AddressOwnershipTestStatus
  | UnknownMhMessage;

export type MhMessageKind = MhMessage['kind'];

type WithDefaults<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/** What encodeMh accepts: flags default to false, otherFlags to 0, options to none. */
export type MhMessageInput =
  | WithDefaults<BindingRefreshRequest, 'options'>
  | WithDefaults<HomeTestInit, 'options'>
  | WithDefaults<CareOfTestInit, 'options'>
  | WithDefaults<HomeTest, 'options'>
  | WithDefaults<CareOfTest, 'options'>
  | WithDefaults<BindingUpdate, 'ack' | 'home' | 'linkLocal' | 'keyManagement' | 'otherFlags' | 'options'>
  | WithDefaults<BindingAck, 'keyManagement' | 'otherFlags' | 'options'>
  | WithDefaults<BindingError, 'options'>
  | AddressOwnershipTestOffer
  | WithDefaults<AddressOwnershipTestChallenge, 'options'>
  | WithDefaults<AddressOwnershipTestResponse, 'options'>
  | AddressOwnershipTestStatus
  | UnknownMhMessage;

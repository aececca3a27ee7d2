// Status codes carried by BA, BE (RFC 6275 §6.1.8, §6.1.9) and AOTS (IRO §4.4.4), with the
// texts operators see in logs and the accept/reject rule.

/** RFC 6275 §6.1.8 (and IANA): values below 128 mean the Binding Update was accepted. */
export const BA_STATUS_TEXT: ReadonlyMap<number, string> = new Map([
  [0, 'Binding Update accepted'],
  [1, 'Accepted but prefix discovery necessary'],
  [128, 'Reason unspecified'],
  [129, 'Administratively prohibited'],
  [130, 'Insufficient resources'],
  [131, 'Home registration not supported'],
  [132, 'Not home subnet'],
  [133, 'Not home agent for this mobile node'],
  [134, 'Duplicate Address Detection failed'],
  [135, 'Sequence number out of window'],
  [136, 'Expired home nonce index'],
  [137, 'Expired care-of nonce index'],
  [138, 'Expired nonces'],
  [139, 'Registration type change disallowed'],
  [174, 'Invalid Care-of Address'],
]);

export const BaStatus = {
  ACCEPTED: 0,
  ACCEPTED_PREFIX_DISCOVERY: 1,
  REASON_UNSPECIFIED: 128,
  ADMINISTRATIVELY_PROHIBITED: 129,
  INSUFFICIENT_RESOURCES: 130,
  HOME_REGISTRATION_NOT_SUPPORTED: 131,
  NOT_HOME_SUBNET: 132,
  NOT_HOME_AGENT: 133,
  DAD_FAILED: 134,
  SEQUENCE_OUT_OF_WINDOW: 135,
  EXPIRED_HOME_NONCE_INDEX: 136,
  EXPIRED_CARE_OF_NONCE_INDEX: 137,
  EXPIRED_NONCES: 138,
  REGISTRATION_TYPE_CHANGE_DISALLOWED: 139,
  INVALID_CARE_OF_ADDRESS: 174,
} as const;

export function isBindingAccepted(status: number): boolean {
  return status < 128;
}

export function baStatusText(status: number): string {
  const known = BA_STATUS_TEXT.get(status);
  if (known !== undefined) return known;
  return isBindingAccepted(status) ? `accepted (status ${status})` : `rejected (status ${status})`;
}

/** RFC 6275 §6.1.9. */
export const BE_STATUS_TEXT: ReadonlyMap<number, string> = new Map([
  [1, 'Unknown binding for Home Address destination option'],
  [2, 'Unrecognized MH Type value'],
]);

export const BeStatus = {
  UNKNOWN_BINDING_FOR_HAO: 1,
  UNRECOGNIZED_MH_TYPE: 2,
} as const;

export function beStatusText(status: number): string {
  return BE_STATUS_TEXT.get(status) ?? `unknown Binding Error status ${status}`;
}

/** IRO §4.4.4. The Code field is 4 bits; 2-15 are unassigned and reported as 'unknown'. */
export const AotsCode = {
  AOTO_NOT_ALLOWED: 0,
  PROOF_VALID: 1,
} as const;

export type AotsStatus = 'aoto-not-allowed' | 'proof-valid' | 'unknown';

export function aotsStatus(code: number): AotsStatus {
  if (code === AotsCode.AOTO_NOT_ALLOWED) return 'aoto-not-allowed';
  if (code === AotsCode.PROOF_VALID) return 'proof-valid';
  return 'unknown';
}

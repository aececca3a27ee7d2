// IRO §4.3.1: the Nonce field "MUST always be filled with a freshly generated 64-bit random
// value". It is the whole proof of CoA ownership, so it comes from the OS CSPRNG (DIGEST A14).
import { randomBytes } from 'node:crypto';
import { IRO_NONCE_LENGTH } from './constants.ts';

export function generateNonce(): Buffer {
  return randomBytes(IRO_NONCE_LENGTH);
}

// The IPsec algorithms a static SA may use (Linux crypto API names, as `ip xfrm` takes them),
// with the key lengths each accepts. Integrity is mandatory everywhere: RFC 6275 §5.1 and
// [HAIPSEC] I1 want non-null authentication for signalling, and IRO App. E (quoting RFC 4303)
// forbids NULL encryption together with NULL authentication.

export const AUTH_ALGS = ['hmac(sha1)', 'hmac(sha256)', 'hmac(sha512)'] as const;
export const ENC_ALGS = ['cbc(aes)', 'ecb(cipher_null)'] as const;
export const AEAD_ALGS = ['rfc4106(gcm(aes))'] as const;

export type AuthAlg = (typeof AUTH_ALGS)[number];
export type EncAlg = (typeof ENC_ALGS)[number];
export type AeadAlg = (typeof AEAD_ALGS)[number];

export const NULL_ENC: EncAlg = 'ecb(cipher_null)';

interface AuthSpec {
  keyBits: number;
  digestBits: number;
  /** the RFC truncation (RFC 2404: 96; RFC 4868: half the digest) */
  defaultTruncBits: number;
}

/** RFC 2404 (SHA-1) and RFC 4868 (SHA-2): the key is as long as the digest. */
export const AUTH_SPECS: Readonly<Record<AuthAlg, AuthSpec>> = {
  'hmac(sha1)': { keyBits: 160, digestBits: 160, defaultTruncBits: 96 },
  'hmac(sha256)': { keyBits: 256, digestBits: 256, defaultTruncBits: 128 },
  'hmac(sha512)': { keyBits: 512, digestBits: 512, defaultTruncBits: 256 },
};

/** Allowed key lengths in bits; cipher_null takes no key. */
export const ENC_KEY_BITS: Readonly<Record<EncAlg, readonly number[]>> = {
  'cbc(aes)': [128, 192, 256],
  'ecb(cipher_null)': [0],
};

/** RFC 4106: the AES key followed by a 32-bit salt. */
export const AEAD_KEY_BITS: Readonly<Record<AeadAlg, readonly number[]>> = {
  'rfc4106(gcm(aes))': [160, 224, 288],
};

export const AEAD_ICV_BITS = [64, 96, 128] as const;

export function keyBitsFor(kind: 'auth' | 'enc' | 'aead', alg: string): readonly number[] {
  if (kind === 'auth') return [AUTH_SPECS[alg as AuthAlg].keyBits];
  if (kind === 'enc') return ENC_KEY_BITS[alg as EncAlg];
  return AEAD_KEY_BITS[alg as AeadAlg];
}

/** A shell command that makes a key file of the right size (for messages and examples). */
export function keyCommand(bits: number, file: string): string {
  return `(umask 077; head -c ${bits / 8} /dev/urandom | od -An -tx1 | tr -d ' \\n' > ${file})`;
}

// Command lines shown in errors must never carry key material: tests will run
// `ip xfrm state add ... enc cbc(aes) 0x<key>` through the kit, and a failure message
// (or a log of it) is not allowed to repeat the key.

/** `ip xfrm state` keywords followed by an algorithm name and then the key. */
const KEY_AFTER_ALGO = new Set(['enc', 'auth', 'auth-trunc', 'aead', 'comp']);

/** Long hex blobs look like keys; SPIs (8 hex digits) and addresses stay readable. */
const HEX_BLOB = /\b(0x)?[0-9a-fA-F]{16,}\b/g;

export const REDACTED = '<redacted>';

export function redactArgv(argv: readonly string[]): string[] {
  const out = argv.map((a) => redactText(a));
  for (let i = 0; i < argv.length; i++) {
    if (KEY_AFTER_ALGO.has(argv[i]!) && i + 2 < argv.length) out[i + 2] = REDACTED;
  }
  return out;
}

export function redactText(text: string): string {
  return text.replace(HEX_BLOB, REDACTED);
}

/** A shell-like rendering for messages: quotes only what needs quoting. */
export function describeArgv(argv: readonly string[]): string {
  return redactArgv(argv)
    .map((a) => (/^[A-Za-z0-9_@%+=:,./<>-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

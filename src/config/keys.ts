// Key material from the configuration: inline hex or a key file, checked like ssh checks a
// private key (no access for group or others), turned into SecretKey objects at once. No
// message here contains key bytes: only paths, modes and bit lengths.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { SecretKey } from '../kernel/xfrm/secret-key.ts';
import { AUTH_SPECS, keyBitsFor, keyCommand, NULL_ENC, type AuthAlg } from './algorithms.ts';
import type { DocPath, Problems } from './issues.ts';
import type { AeadMaterial, AuthMaterial, KeyMaterial } from './types.ts';

/** Reads a key file: its bytes and its permission bits. Throws Node's errno errors. */
export type KeyFileReader = (path: string) => { bytes: Buffer; mode: number; isFile: boolean };

const MAX_KEY_FILE = 4096;

export const readKeyFile: KeyFileReader = (path) => {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { bytes: Buffer.alloc(0), mode: st.mode, isFile: false };
    const buf = Buffer.alloc(Math.min(st.size, MAX_KEY_FILE) + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return { bytes: buf.subarray(0, n), mode: st.mode, isFile: true };
  } finally {
    closeSync(fd);
  }
};

export interface KeyContext {
  /** directory that relative key file paths are resolved against (the config file's) */
  baseDir: string;
  read: KeyFileReader;
  /** tests only: accept key files that group or others can access */
  allowInsecureKeyFiles: boolean;
  problems: Problems;
  /** set when an inline key is met: the config file itself must then be private */
  inlineKeyAt?: DocPath;
}

interface KeyBlock {
  alg: string;
  key?: string | undefined;
  keyFile?: string | undefined;
}

function errnoText(e: unknown): string {
  const code = (e as { code?: string }).code;
  const text: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory' };
  return code ? `${code}${text[code] ? ` (${text[code]})` : ''}` : String((e as Error).message ?? e);
}

/** Hex text to bytes, ignoring white space (so `xxd -p` output with line breaks works). */
function hexBytes(text: string): Buffer | null {
  let h = text.replace(/\s+/g, '');
  if (h.startsWith('0x') || h.startsWith('0X')) h = h.slice(2);
  if (h.length === 0 || h.length % 2 || !/^[0-9a-fA-F]+$/.test(h)) return null;
  return Buffer.from(h, 'hex');
}

function checkLength(kind: 'auth' | 'enc' | 'aead', alg: string, key: SecretKey, where: string, path: DocPath, ctx: KeyContext): boolean {
  const allowed = keyBitsFor(kind, alg);
  if (allowed.includes(key.bits)) return true;
  const want = allowed.length === 1 ? `a ${allowed[0]}-bit key` : `a key of ${allowed.join(', ')} bits`;
  ctx.problems.error(path, `${alg} needs ${want}; ${where} holds ${key.bits} bits`);
  return false;
}

function fromFile(kind: 'auth' | 'enc' | 'aead', alg: string, file: string, path: DocPath, ctx: KeyContext): KeyMaterial | null {
  const full = isAbsolute(file) ? file : resolve(ctx.baseDir, file);
  const bits = keyBitsFor(kind, alg).at(-1)!;
  let got: ReturnType<KeyFileReader>;
  try {
    got = ctx.read(full);
  } catch (e) {
    const hint = (e as { code?: string }).code === 'ENOENT' ? `; create it with: ${keyCommand(bits, full)}` : '';
    ctx.problems.error(path, `key file ${full} cannot be read: ${errnoText(e)}${hint}`);
    return null;
  }
  if (!got.isFile) {
    ctx.problems.error(path, `key file ${full} is not a regular file`);
    return null;
  }
  if (got.mode & 0o077 && !ctx.allowInsecureKeyFiles) {
    got.bytes.fill(0);
    const mode = (got.mode & 0o777).toString(8).padStart(4, '0');
    ctx.problems.error(path, `key file ${full} is accessible by group or others (mode ${mode}); keys must be private: chmod 600 ${full}`);
    return null;
  }
  const bytes = hexBytes(got.bytes.toString('latin1'));
  got.bytes.fill(0);
  if (!bytes) {
    ctx.problems.error(path, `key file ${full} does not hold a key as hex digits (the content is not shown); create it with: ${keyCommand(bits, full)}`);
    return null;
  }
  const key = SecretKey.from(bytes);
  bytes.fill(0);
  if (!checkLength(kind, alg, key, `key file ${full}`, path, ctx)) return null;
  return { alg, key, source: 'file', keyFile: full };
}

/** The key of one algorithm block, or null (with the problem recorded). */
export function loadKey(kind: 'auth' | 'enc' | 'aead', block: KeyBlock, path: DocPath, ctx: KeyContext): KeyMaterial | null {
  if (kind === 'enc' && block.alg === NULL_ENC) {
    if (block.key !== undefined || block.keyFile !== undefined) {
      ctx.problems.error([...path, block.key !== undefined ? 'key' : 'keyFile'], `${NULL_ENC} takes no key`);
      return null;
    }
    return { alg: block.alg, key: null, source: 'none' };
  }
  if (block.key !== undefined && block.keyFile !== undefined) {
    ctx.problems.error([...path, 'key'], 'expected either key (inline hex) or keyFile, not both');
    return null;
  }
  if (block.keyFile !== undefined) return fromFile(kind, block.alg, block.keyFile, [...path, 'keyFile'], ctx);
  if (block.key !== undefined) {
    ctx.inlineKeyAt ??= [...path, 'key'];
    const bytes = hexBytes(block.key);
    if (!bytes) {
      ctx.problems.error([...path, 'key'], 'expected an even number of hex digits (the value is not shown)');
      return null;
    }
    const key = SecretKey.from(bytes);
    bytes.fill(0);
    if (!checkLength(kind, block.alg, key, 'the inline key', [...path, 'key'], ctx)) return null;
    return { alg: block.alg, key, source: 'inline' };
  }
  ctx.problems.error(path, `${block.alg} needs a key: give keyFile (recommended) or key (inline hex)`);
  return null;
}

export function loadAuth(block: KeyBlock & { truncBits?: number | undefined }, path: DocPath, ctx: KeyContext): AuthMaterial | null {
  const spec = AUTH_SPECS[block.alg as AuthAlg];
  const truncBits = block.truncBits ?? spec.defaultTruncBits;
  let ok = true;
  if (truncBits < 96 || truncBits > spec.digestBits || truncBits % 8) {
    ctx.problems.error([...path, 'truncBits'], `expected an ICV length for ${block.alg}: a multiple of 8 from 96 to ${spec.digestBits} bits (default ${spec.defaultTruncBits}), found ${truncBits}`);
    ok = false;
  }
  const k = loadKey('auth', block, path, ctx);
  return k && ok ? { ...k, truncBits } : null;
}

export function loadAead(block: KeyBlock & { icvBits: number }, path: DocPath, ctx: KeyContext): AeadMaterial | null {
  const k = loadKey('aead', block, path, ctx);
  return k ? { ...k, icvBits: block.icvBits } : null;
}

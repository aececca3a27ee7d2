// Configuration files for tests: a copy of a YAML file in a fresh temporary directory with every
// key file it references created there (random bytes of a length its algorithm accepts, mode
// 0600). Keys are made at test time and never committed; the bytes are returned so tests can
// search output for leaks.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { keyBitsFor } from '../../src/config/algorithms.ts';

export interface ConfigFixture {
  dir: string;
  path: string;
  /** every key written, by key file path relative to the config */
  keys: Map<string, Buffer>;
  cleanup(): void;
}

function kindOf(alg: string): 'auth' | 'enc' | 'aead' {
  if (alg.startsWith('hmac(')) return 'auth';
  if (alg.startsWith('rfc4106(')) return 'aead';
  return 'enc';
}

function* keyFiles(v: unknown): Generator<{ alg: string; keyFile: string }> {
  if (Array.isArray(v)) for (const x of v) yield* keyFiles(x);
  else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.alg === 'string' && typeof o.keyFile === 'string') yield { alg: o.alg, keyFile: o.keyFile };
    for (const x of Object.values(o)) yield* keyFiles(x);
  }
}

export function makeTempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `iro-config-${tag}-${process.pid}-`));
}

/** Write `text` as a config file in a new temp dir and create the key files it references. */
export function configFixture(text: string, opts: { tag?: string; keyMode?: number; fileMode?: number; name?: string } = {}): ConfigFixture {
  const dir = makeTempDir(opts.tag ?? 'fixture');
  const path = join(dir, opts.name ?? 'iro-ctl.yaml');
  writeFileSync(path, text, { mode: opts.fileMode ?? 0o600 });
  chmodSync(path, opts.fileMode ?? 0o600);
  const keys = new Map<string, Buffer>();
  for (const { alg, keyFile } of keyFiles(parse(text))) {
    if (keys.has(keyFile)) continue;
    const bits = keyBitsFor(kindOf(alg), alg).at(-1)!;
    const key = randomBytes(bits / 8);
    const full = keyFile.startsWith('/') ? keyFile : join(dir, keyFile);
    mkdirSync(dirname(full), { recursive: true, mode: 0o700 });
    writeFileSync(full, `${key.toString('hex')}\n`, { mode: opts.keyMode ?? 0o600 });
    chmodSync(full, opts.keyMode ?? 0o600);
    keys.set(keyFile, key);
  }
  return { dir, path, keys, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function exampleFixture(name: 'mn' | 'cn' | 'ha'): ConfigFixture {
  const text = readFileSync(new URL(`../../deploy/examples/${name}.yaml`, import.meta.url), 'utf8');
  return configFixture(text, { tag: name, name: `${name}.yaml` });
}

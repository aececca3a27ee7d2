// Schema problems in the words of this project: "what was expected, what was found". The
// expected part comes from the schema (or this file's error map); the found part is described
// from the document, and never shows a value that might be key material.
import type { z } from 'zod';
import type { DocPath, PendingIssue } from './issues.ts';

type RawIssue = z.core.$ZodIssue;
type MapIssue = z.core.$ZodRawIssue;

const NOUNS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function listValues(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' | ');
}

function bound(iss: { origin?: string; minimum?: unknown; maximum?: unknown; inclusive?: boolean }, min: boolean): string {
  const n = Number(min ? iss.minimum : iss.maximum);
  switch (iss.origin) {
    case 'array':
      return min ? `expected at least ${n} item${n === 1 ? '' : 's'}` : `expected at most ${n} item${n === 1 ? '' : 's'}`;
    case 'string':
      return min ? (n <= 1 ? 'expected a non-empty string' : `expected at least ${n} characters`) : `expected at most ${n} characters`;
    default:
      return `expected a number ${min ? (iss.inclusive === false ? '>' : '>=') : iss.inclusive === false ? '<' : '<='} ${n}`;
  }
}

/** The per-parse error map: wording for every issue the schema did not word itself. */
export function schemaErrorMap(iss: MapIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${NOUNS[iss.expected] ?? iss.expected}`;
    case 'invalid_value':
      return iss.values.length === 1 ? `expected ${listValues(iss.values)}` : `expected one of ${listValues(iss.values)}`;
    case 'too_small':
      return bound(iss as never, true);
    case 'too_big':
      return bound(iss as never, false);
    case 'not_multiple_of':
      return `expected a multiple of ${String(iss.divisor)}`;
    case 'invalid_format':
      return 'expected text in another format';
    case 'invalid_union':
      return 'expected one of the accepted forms';
    default:
      return undefined;
  }
}

/** Path segments under which strings are never shown: key material and its neighbours. */
const SECRET_SEGMENTS = new Set(['key', 'auth', 'enc', 'aead']);
const LONG_HEX = /^(0x)?[0-9a-f]{16,}$/i;

/** A short, safe description of what the document holds at a path. */
export function describeFound(value: unknown, path: DocPath): string {
  if (value === undefined) return 'nothing (the key is missing)';
  if (value === null) return 'an empty value';
  // a key field, or an algorithm block given as a bare value (someone pasted the key there)
  const last = path.at(-1);
  const secret = path.includes('key') || (typeof last === 'string' && SECRET_SEGMENTS.has(last));
  if (typeof value === 'string') {
    if (secret || LONG_HEX.test(value.replace(/\s+/g, ''))) return 'a value that is not shown (it may be key material)';
    const t = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(t);
  }
  if (typeof value === 'number' || typeof value === 'bigint') return secret ? 'a number (not shown)' : String(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length ? `a mapping with ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', ...' : ''}` : 'an empty mapping';
  }
  return typeof value;
}

export function valueAt(root: unknown, path: DocPath): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
    }
  }
  return d[a.length]![b.length]!;
}

interface Def {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  out?: unknown;
  element?: unknown;
}

const def = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } })?._zod?.def;

/** The keys an object schema at `path` accepts (through defaults, optionals, pipes and arrays). */
export function allowedKeysAt(schema: unknown, path: DocPath): string[] | undefined {
  let s: unknown = schema;
  const unwrap = () => {
    for (let n = 0; n < 16; n++) {
      const d = def(s);
      if (!d) return;
      if (d.innerType) s = d.innerType;
      else if (d.type === 'pipe') s = def(d.in)?.type === 'transform' ? d.out : d.in;
      else return;
    }
  };
  for (const seg of path) {
    unwrap();
    const d = def(s);
    if (!d) return undefined;
    if (typeof seg === 'number' && d.type === 'array') s = d.element;
    else if (typeof seg === 'string' && d.shape) s = d.shape[seg];
    else return undefined;
  }
  unwrap();
  const shape = def(s)?.shape;
  return shape ? Object.keys(shape) : undefined;
}

/** Schema issues as pending problems (one per unknown key), with what was found. */
export function schemaProblems(issues: readonly RawIssue[], raw: unknown, schema: unknown, toDocPath: (p: DocPath) => DocPath): PendingIssue[] {
  const out: PendingIssue[] = [];
  for (const iss of issues) {
    const path = iss.path.filter((x): x is string | number => typeof x !== 'symbol');
    const docPath = toDocPath(path);
    if (iss.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(schema, path) ?? [];
      for (const key of iss.keys) {
        const close = allowed.filter((k) => editDistance(k, key) <= 2).sort((a, b) => editDistance(a, key) - editDistance(b, key))[0];
        const hint = close ? ` (did you mean ${close}?)` : allowed.length ? ` (expected one of: ${allowed.join(', ')})` : '';
        out.push({ path: [...docPath, key], message: `unknown key ${key}${hint}`, atKey: true });
      }
      continue;
    }
    const found = describeFound(valueAt(raw, docPath), docPath);
    out.push({ path: docPath, message: `${iss.message}, found ${found}` });
  }
  return out;
}

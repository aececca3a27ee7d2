// Loading a node configuration: YAML, then the schema, then names, profile, keys and the
// checks that span fields. Every problem of the file is reported at once in one ConfigError,
// each as FILE:LINE:COL: path.in.document: what was expected, what was found.
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { checkAuthorisations, checkIpsec, checkSaAlgorithms } from './checks-ipsec.ts';
import { checkIro } from './checks-iro.ts';
import { checkPeers } from './checks-peers.ts';
import { checkRoles } from './checks-roles.ts';
import { ConfigError, formatPath, Problems, type ConfigIssue, type DocPath, type PendingIssue } from './issues.ts';
import { readKeyFile, type KeyContext, type KeyFileReader } from './keys.ts';
import { DocLocator } from './positions.ts';
import { resolveConfig } from './resolve.ts';
import { nodeConfigSchema } from './schema.ts';
import { schemaErrorMap, schemaProblems } from './schema-messages.ts';
import type { NodeConfig } from './types.ts';

export interface LoadOptions {
  /** tests only: accept key files (and a config file with inline keys) that group or others can read */
  allowInsecureKeyFiles?: boolean;
  /** replaces the file system for key files (tests) */
  readKeyFile?: KeyFileReader;
}

export interface LoadTextOptions extends LoadOptions {
  /** the name used in messages */
  file: string;
  /** relative key file paths are resolved against this directory (default: the file's) */
  baseDir?: string;
  /** the configuration file's permission bits, checked when it holds inline keys */
  fileMode?: number;
}

export interface LoadResult {
  config: NodeConfig;
  warnings: ConfigIssue[];
}

/** Strip anything that could be key material from a message we did not write. */
function scrub(message: string): string {
  return message.replace(/(0x)?[0-9a-f]{16,}/gi, '<not shown>');
}

function byPosition(a: ConfigIssue, b: ConfigIssue): number {
  return a.line - b.line || a.col - b.col;
}

/** Wipe every key of a configuration that is not handed out. */
function wipeKeys(c: NodeConfig): void {
  for (const sa of c.ipsec.sas) for (const m of [sa.auth, sa.enc, sa.aead]) m?.key?.wipe();
}

/** Paths of the schema's output as they are written in the file (one profile may stand for a list). */
function docPathMapper(raw: unknown): (p: DocPath) => DocPath {
  const profileIsList = Array.isArray((raw as { haIpsecProfile?: unknown } | null)?.haIpsecProfile);
  return (p) => (!profileIsList && p[0] === 'haIpsecProfile' && p[1] === 0 ? ['haIpsecProfile', ...p.slice(2)] : p);
}

export function loadConfigText(text: string, opts: LoadTextOptions): LoadResult {
  const file = opts.file;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const locator = new DocLocator(doc, lines);
  const place = (i: PendingIssue): ConfigIssue => {
    const pos = i.atKey ? locator.locateKey(i.path) : locator.locate(i.path);
    return { file, line: pos.line, col: pos.col, path: formatPath(i.path), message: i.message };
  };
  // prettyErrors would quote the offending source line, which may hold a key: positions only
  const yamlIssue = (e: { message: string; pos: [number, number] }): ConfigIssue => {
    const at = lines.linePos(e.pos[0]);
    return { file, line: at.line, col: at.col, path: '(yaml syntax)', message: scrub(e.message) };
  };
  const yamlWarnings = doc.warnings.map(yamlIssue);
  if (doc.errors.length) throw new ConfigError(file, doc.errors.map(yamlIssue).sort(byPosition));

  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    const found = raw === null || raw === undefined ? 'an empty document' : Array.isArray(raw) ? 'a list' : `${typeof raw}`;
    throw new ConfigError(file, [place({ path: [], message: `expected a mapping with at least "role: mn | cn | ha", found ${found}` })]);
  }
  const parsed = nodeConfigSchema.safeParse(raw, { error: schemaErrorMap });
  if (!parsed.success) {
    throw new ConfigError(file, schemaProblems(parsed.error.issues, raw, nodeConfigSchema, docPathMapper(raw)).map(place).sort(byPosition));
  }

  const problems = new Problems();
  const keys: KeyContext = {
    baseDir: opts.baseDir ?? dirname(resolve(file)),
    read: opts.readKeyFile ?? readKeyFile,
    allowInsecureKeyFiles: opts.allowInsecureKeyFiles ?? false,
    problems,
  };
  const { config, drafts } = resolveConfig(parsed.data, raw, file, problems, keys);
  checkSaAlgorithms(drafts, problems);
  checkRoles(parsed.data, config, problems);
  checkPeers(parsed.data, config, problems);
  checkIro(config, problems);
  checkIpsec(config, problems);
  checkAuthorisations(config, problems);
  if (keys.inlineKeyAt && opts.fileMode !== undefined && opts.fileMode & 0o077 && !keys.allowInsecureKeyFiles) {
    const mode = (opts.fileMode & 0o777).toString(8).padStart(4, '0');
    problems.error(keys.inlineKeyAt, `the configuration holds inline keys but is accessible by group or others (mode ${mode}): chmod 600 ${file}, or move the keys to key files`);
  }
  const warnings = [...yamlWarnings, ...problems.warnings.map(place)].sort(byPosition);
  if (!problems.ok) {
    wipeKeys(config);
    throw new ConfigError(file, problems.errors.map(place).sort(byPosition));
  }
  return { config, warnings };
}

/** Read and check a node configuration file. Throws ConfigError listing every problem. */
export function loadConfig(path: string, opts: LoadOptions = {}): LoadResult {
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).message;
    throw new ConfigError(path, [{ file: path, line: 1, col: 1, path: '(document)', message: `cannot read the configuration: ${code}` }]);
  }
  return loadConfigText(text, { ...opts, file: path, baseDir: dirname(resolve(path)), fileMode: mode });
}

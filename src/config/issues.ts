// Configuration problems: where (file, line, column, path in the document) and what. Every
// problem of a file is collected first and reported together as one ConfigError, so an operator
// fixes a file in one pass instead of one error per run.

export type DocPath = ReadonlyArray<string | number>;

export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  /** the path in the document, e.g. `ipsec.sas[2].auth.keyFile`; `(document)` for the whole file */
  path: string;
  message: string;
}

/** `a.b[0].c`, the form used in every message. */
export function formatPath(path: DocPath): string {
  if (path.length === 0) return '(document)';
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.path}: ${i.message}`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    const n = issues.length;
    super(`${file}: ${n} problem${n === 1 ? '' : 's'} in the configuration:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
  }
}

/** A problem before it is given a position in the file. */
export interface PendingIssue {
  path: DocPath;
  message: string;
  /** point at the key itself (an unknown key) rather than at its value */
  atKey?: boolean;
}

/** Collects errors and warnings while a configuration is checked. */
export class Problems {
  readonly errors: PendingIssue[] = [];
  readonly warnings: PendingIssue[] = [];

  error(path: DocPath, message: string): void {
    this.errors.push({ path: [...path], message });
  }

  warn(path: DocPath, message: string): void {
    this.warnings.push({ path: [...path], message });
  }

  get ok(): boolean {
    return this.errors.length === 0;
  }
}

// Small JSON state files the daemon keeps across restarts (never keys): the home agent's last
// accepted BU sequence per home address (OP-43), and the mobile node's binding view, which the
// rules are derived from, so a restarted MN rebuilds exactly the rules it left behind (L05).
// Writes are atomic (temporary file + rename) and coalesced: at most one per interval, plus a
// final flush on stop, because a home agent accepts tens of thousands of BUs per second.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../obs/log.ts';

export class PersistedJson<T> {
  /** produces the value when it is written (a home agent's table is built once per write, not per BU) */
  private pending: (() => T) | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly path: string,
    private readonly what: string,
    private readonly log: Logger,
    private readonly coalesceMs = 1000,
  ) {}

  /** The stored value, or null when there is none (a missing or unreadable file is logged, not fatal). */
  load(valid: (v: unknown) => v is T): T | null {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ file: this.path, error: (e as Error).message }, `cannot read the ${this.what}: starting without it`);
      return null;
    }
    try {
      const v: unknown = JSON.parse(text);
      if (valid(v)) return v;
      this.log.warn({ file: this.path }, `the ${this.what} has an unexpected shape: starting without it`);
    } catch (e) {
      this.log.warn({ file: this.path, error: (e as Error).message }, `the ${this.what} is not valid JSON: starting without it`);
    }
    return null;
  }

  /** Store the value `produce` gives soon (the last one given within the interval wins). */
  save(produce: () => T): void {
    this.pending = produce;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.coalesceMs);
    this.timer.unref();
  }

  /** Write what is pending now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending === null) return;
    const produce = this.pending;
    this.pending = null;
    try {
      const v = produce();
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
      const tmp = `${this.path}.tmp-${process.pid}`;
      writeFileSync(tmp, `${JSON.stringify(v)}\n`, { mode: 0o600 });
      renameSync(tmp, this.path);
    } catch (e) {
      this.log.error({ file: this.path, error: (e as Error).message }, `writing the ${this.what} failed`);
    }
  }
}

/** In the node's state directory. */
export const MN_BINDINGS_FILE = 'mn-bindings.json';

/** The MN's binding view as the rules use it, valid only while the CoA is the same. */
export interface MnBindingsFile {
  coa: string;
  bindings: Array<{ peer: string; coa: string; state: 'bu-sent' | 'effective' }>;
}

export function isMnBindingsFile(v: unknown): v is MnBindingsFile {
  const o = v as MnBindingsFile;
  return (
    !!o &&
    typeof o.coa === 'string' &&
    Array.isArray(o.bindings) &&
    o.bindings.every((b) => !!b && typeof b.peer === 'string' && typeof b.coa === 'string' && (b.state === 'bu-sent' || b.state === 'effective'))
  );
}

export type SequenceFile = Record<string, number>;

export function isSequenceFile(v: unknown): v is SequenceFile {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((s) => Number.isInteger(s) && s >= 0 && s <= 0xffff);
}
